// The "plain JavaScript" peer: each optimizer's update as anyone would write it in a loop
// over Float32Arrays, in float64 with no Math.fround and no SIMD. The benchmark checks these
// land close to simdopt's results, then times them against both backends.


export type PlainStep = (t: number) => void;

/** Builds a plain update over `p` and `g` for the named optimizer (state arrays allocated here). */
export function plainOptimizer(name: string, p: Float32Array, g: Float32Array): PlainStep | undefined {
  const n = p.length;
  const z = () => new Float32Array(n);
  switch (name) {
    case 'sgd': return () => { const lr = 1e-3; for (let i = 0; i < n; i++) p[i] -= lr * g[i]; };
    case 'sgd-momentum':
    case 'sgd-nesterov': {
      const buf = z(); const nesterov = name === 'sgd-nesterov';
      return (t) => {
        const lr = 1e-3, mu = 0.9;
        for (let i = 0; i < n; i++) {
          const b = t === 1 ? g[i] : mu * buf[i] + g[i];
          buf[i] = b;
          p[i] -= lr * (nesterov ? g[i] + mu * b : b);
        }
      };
    }
    case 'adam':
    case 'adamw': {
      const m = z(), v = z(); const decoupled = name === 'adamw';
      return (t) => {
        const lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = decoupled ? 1e-2 : 0;
        const ss = lr / (1 - b1 ** t), bc2 = Math.sqrt(1 - b2 ** t), decay = 1 - lr * wd;
        for (let i = 0; i < n; i++) {
          const gi = g[i];
          const mi = b1 * m[i] + (1 - b1) * gi, vi = b2 * v[i] + (1 - b2) * gi * gi;
          m[i] = mi; v[i] = vi;
          p[i] = p[i] * decay - ss * mi / (Math.sqrt(vi) / bc2 + eps);
        }
      };
    }
    case 'adagrad': {
      const s = z();
      return (t) => {
        const clr = 1e-2 / (1 + (t - 1) * 0), eps = 1e-10;
        for (let i = 0; i < n; i++) { const gi = g[i]; const si = s[i] + gi * gi; s[i] = si; p[i] -= clr * gi / (Math.sqrt(si) + eps); }
      };
    }
    case 'rmsprop': {
      const sq = z();
      return () => {
        const lr = 1e-2, a = 0.99, eps = 1e-8;
        for (let i = 0; i < n; i++) { const gi = g[i]; const s = a * sq[i] + (1 - a) * gi * gi; sq[i] = s; p[i] -= lr * gi / (Math.sqrt(s) + eps); }
      };
    }
    case 'nadam': {
      const m = z(), v = z(); let muProduct = 1;
      return (t) => {
        const lr = 2e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, psi = 4e-3;
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
    }
    case 'adamax': {
      const m = z(), u = z();
      return (t) => {
        const lr = 2e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, clr = lr / (1 - b1 ** t);
        for (let i = 0; i < n; i++) {
          const gi = g[i]; const mi = b1 * m[i] + (1 - b1) * gi; const ui = Math.max(b2 * u[i], Math.abs(gi) + eps);
          m[i] = mi; u[i] = ui; p[i] -= clr * mi / ui;
        }
      };
    }
    case 'radam': {
      const m = z(), v = z();
      return (t) => {
        const lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        const bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t, rhoInf = 2 / (1 - b2) - 1, rhoT = rhoInf - 2 * t * b2 ** t / bc2;
        const rect = rhoT > 5 ? Math.sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 0;
        for (let i = 0; i < n; i++) {
          const gi = g[i]; const mi = b1 * m[i] + (1 - b1) * gi, vi = b2 * v[i] + (1 - b2) * gi * gi;
          m[i] = mi; v[i] = vi;
          p[i] -= rhoT > 5 ? lr * (mi / bc1) * rect * Math.sqrt(bc2) / (Math.sqrt(vi) + eps) : lr * mi / bc1;
        }
      };
    }
    case 'adadelta': {
      const sq = z(), acc = z();
      return () => {
        const lr = 1, rho = 0.9, eps = 1e-6;
        for (let i = 0; i < n; i++) {
          const gi = g[i]; const s = rho * sq[i] + (1 - rho) * gi * gi; sq[i] = s;
          const d = Math.sqrt(acc[i] + eps) / Math.sqrt(s + eps) * gi;
          acc[i] = rho * acc[i] + (1 - rho) * d * d; p[i] -= lr * d;
        }
      };
    }
    case 'lion': {
      const m = z();
      return () => {
        const lr = 1e-4, b1 = 0.9, b2 = 0.99;
        for (let i = 0; i < n; i++) {
          const gi = g[i]; const c = b1 * m[i] + (1 - b1) * gi;
          p[i] -= lr * Math.sign(c); m[i] = b2 * m[i] + (1 - b2) * gi;
        }
      };
    }
    default: return undefined;
  }
}

