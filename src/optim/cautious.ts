// The cautious optimizers' step (Liang et al., 2024, "Cautious Optimizers: Improving Training
// with One Line of Code", arXiv:2411.16085), as the authors' reference code computes it
// (github.com/kyleliang919/C-Optim, c_adamw.py, AdamW.step):
//
//     mask = (update * grad > 0)                  per element, 1 or 0
//     mask = mask / max(mean(mask), 1e-3)         mean over the parameter tensor
//     p -= update * mask
//
// The mean is a reduction over each parameter, so the step takes three passes per parameter:
//   1. the optimizer's own kernel with its `cautious` flag: the state updates as usual, the
//      parameters only decay (decoupled weight decay), and the update masked by the sign test is
//      written to a scratch array;
//   2. `countNonzero` counts the masked elements that are neither zero nor NaN: exactly those
//      where update * grad > 0 (an agreeing element's update is nonzero and not NaN; any other
//      element's is update * 0). A count is an integer, exact in any order, so every backend and
//      thread count gets the same mean;
//   3. `muonApply` (p -= coef * update, the same arithmetic Muon's last pass needs) applies the
//      masked update times f32(1 / max(count / numel, 1e-3)), computed once in float64.
import type { Kernels } from '../kernels/index.js';
import type { Parameter, ParameterStore } from '../store.js';
import type { GroupState, Run } from './state.js';

/** The smallest mean the mask is divided by (the reference's `clamp(min=1e-3)`). */
export const CAUTIOUS_MIN_MEAN = 1e-3;

/**
 * The factor the masked update of a parameter of `size` elements, `agree` of which agree in
 * sign with the gradient, is multiplied by: `f32(1 / max(agree / size, 1e-3))`. 1 when all
 * agree, so a step whose signs all agree is the optimizer's ordinary step, bit for bit.
 */
export function cautiousScale(agree: number, size: number): number {
  return Math.fround(1 / Math.max(agree / size, CAUTIOUS_MIN_MEAN));
}

/**
 * One cautious step of a group's parameters: for each, `firstPass(run, masked)` runs the
 * optimizer's kernel with its `cautious` flag over the parameter alone (`run`), writing the
 * masked update to `masked` (a scratch array of the store); then the count and the apply pass.
 * @internal
 */
export function cautiousStep(store: ParameterStore, kernels: Kernels, params: readonly Parameter[], state: GroupState,
  firstPass: (run: Run, masked: number) => void): void {
  const largest = params.reduce((n, p) => Math.max(n, p.paddedSize), 0);
  const masked = store.scratch('cautious.masked', 4 * Math.max(largest, 4));
  params.forEach((p, i) => {
    firstPass({ data: p.dataAddress, grad: p.gradAddress, state: state.paramOffsets[i], n: p.paddedSize }, masked);
    if (p.size === 0) return;
    const scale = cautiousScale(kernels.countNonzero(masked, p.size), p.size);
    kernels.muonApply({ param: p.dataAddress, update: masked }, p.paddedSize, { adjustedLr: scale }, { weightDecay: false });
  });
}
