// The "plain JavaScript" peer: each optimizer's update as anyone would write it in a loop
// over Float32Arrays, in float64 with no Math.fround and no SIMD, with the hyperparameters of
// the simdopt optimizer it is compared with. The benchmark checks these land close to
// simdopt's results, then times them against both backends. Peers are keyed by registry key;
// an entry without one is not compared here.

export type PlainStep = (t: number) => void;

/** The hyperparameters a peer reads: the simdopt optimizer's first param group. */
export interface Hyper {
  lr: number; betas: [number, number]; eps: number; momentum: number; nesterov: boolean;
  weightDecay: number; lrDecay: number; alpha: number; rho: number; momentumDecay: number;
}

/** Builds a plain update over `p` and `g` (state arrays allocated here). */
type PlainPeer = (p: Float32Array, g: Float32Array, h: Hyper) => PlainStep;

const zeros = (p: Float32Array) => new Float32Array(p.length);

const sgd: PlainPeer = (p, g, { lr, momentum: mu, nesterov }) => {
  const n = p.length, buf = zeros(p);
  if (mu === 0) return () => { for (let i = 0; i < n; i++) p[i] -= lr * g[i]; };
  return (t) => {
    for (let i = 0; i < n; i++) {
      const b = t === 1 ? g[i] : mu * buf[i] + g[i];
      buf[i] = b;
      p[i] -= lr * (nesterov ? g[i] + mu * b : b);
    }
  };
};

const adam = (decoupled: boolean): PlainPeer => (p, g, { lr, betas: [b1, b2], eps, weightDecay }) => {
  const n = p.length, m = zeros(p), v = zeros(p);
  return (t) => {
    const wd = decoupled ? weightDecay : 0;
    const ss = lr / (1 - b1 ** t), bc2 = Math.sqrt(1 - b2 ** t), decay = 1 - lr * wd;
    for (let i = 0; i < n; i++) {
      const gi = g[i];
      const mi = b1 * m[i] + (1 - b1) * gi, vi = b2 * v[i] + (1 - b2) * gi * gi;
      m[i] = mi; v[i] = vi;
      p[i] = p[i] * decay - ss * mi / (Math.sqrt(vi) / bc2 + eps);
    }
  };
};

/** The plain peers, by registry key. */
export const PLAIN_PEERS: Readonly<Record<string, PlainPeer>> = {
  sgd, momentum: sgd, nag: sgd, adam: adam(false), adamw: adam(true),
  adagrad: (p, g, { lr, lrDecay, eps }) => {
    const n = p.length, s = zeros(p);
    return (t) => {
      const clr = lr / (1 + (t - 1) * lrDecay);
      for (let i = 0; i < n; i++) { const gi = g[i]; const si = s[i] + gi * gi; s[i] = si; p[i] -= clr * gi / (Math.sqrt(si) + eps); }
    };
  },
  rmsprop: (p, g, { lr, alpha: a, eps }) => {
    const n = p.length, sq = zeros(p);
    return () => {
      for (let i = 0; i < n; i++) { const gi = g[i]; const s = a * sq[i] + (1 - a) * gi * gi; sq[i] = s; p[i] -= lr * gi / (Math.sqrt(s) + eps); }
    };
  },
  nadam: (p, g, { lr, betas: [b1, b2], eps, momentumDecay: psi }) => {
    const n = p.length, m = zeros(p), v = zeros(p);
    let muProduct = 1;
    return (t) => {
      const mu = b1 * (1 - 0.5 * 0.96 ** (t * psi)), muNext = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi));
      muProduct *= mu;
      const cg = lr * (1 - mu) / (1 - muProduct), cm = lr * muNext / (1 - muProduct * muNext), bc2 = 1 - b2 ** t;
      for (let i = 0; i < n; i++) {
        const gi = g[i];
        const mi = b1 * m[i] + (1 - b1) * gi, vi = b2 * v[i] + (1 - b2) * gi * gi;
        m[i] = mi; v[i] = vi;
        const d = Math.sqrt(vi / bc2) + eps;
        p[i] -= cg * gi / d + cm * mi / d;
      }
    };
  },
  adamax: (p, g, { lr, betas: [b1, b2], eps }) => {
    const n = p.length, m = zeros(p), u = zeros(p);
    return (t) => {
      const clr = lr / (1 - b1 ** t);
      for (let i = 0; i < n; i++) {
        const gi = g[i]; const mi = b1 * m[i] + (1 - b1) * gi; const ui = Math.max(b2 * u[i], Math.abs(gi) + eps);
        m[i] = mi; u[i] = ui; p[i] -= clr * mi / ui;
      }
    };
  },
  radam: (p, g, { lr, betas: [b1, b2], eps }) => {
    const n = p.length, m = zeros(p), v = zeros(p);
    return (t) => {
      const bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t, rhoInf = 2 / (1 - b2) - 1, rhoT = rhoInf - 2 * t * b2 ** t / bc2;
      const rect = rhoT > 5 ? Math.sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 0;
      for (let i = 0; i < n; i++) {
        const gi = g[i]; const mi = b1 * m[i] + (1 - b1) * gi, vi = b2 * v[i] + (1 - b2) * gi * gi;
        m[i] = mi; v[i] = vi;
        p[i] -= rhoT > 5 ? lr * (mi / bc1) * rect * Math.sqrt(bc2) / (Math.sqrt(vi) + eps) : lr * mi / bc1;
      }
    };
  },
  adadelta: (p, g, { lr, rho, eps }) => {
    const n = p.length, sq = zeros(p), acc = zeros(p);
    return () => {
      for (let i = 0; i < n; i++) {
        const gi = g[i]; const s = rho * sq[i] + (1 - rho) * gi * gi; sq[i] = s;
        const d = Math.sqrt(acc[i] + eps) / Math.sqrt(s + eps) * gi;
        acc[i] = rho * acc[i] + (1 - rho) * d * d; p[i] -= lr * d;
      }
    };
  },
  lion: (p, g, { lr, betas: [b1, b2] }) => {
    const n = p.length, m = zeros(p);
    return () => {
      for (let i = 0; i < n; i++) {
        const gi = g[i]; const c = b1 * m[i] + (1 - b1) * gi;
        p[i] -= lr * Math.sign(c); m[i] = b2 * m[i] + (1 - b2) * gi;
      }
    };
  },
};
