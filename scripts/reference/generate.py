#!/usr/bin/env python3
"""Regenerate the PyTorch reference fixtures of the test suite.

What it writes (relative to the repository root):

    test/fixtures/reference/optimizers.json   float32 optimizer trajectories
                                              (read by test/reference.test.ts)
    test/fixtures/reference/schedules.json    learning rate / momentum per step of the
                                              LR schedulers (read by
                                              test/schedules-reference.test.ts)
    test/fixtures/reference/lbfgs.json        float32 L-BFGS trajectories on a closure
                                              problem (read by test/lbfgs.test.ts)

How to run it, from the repository root (or anywhere; paths are taken from this file):

    python3 scripts/reference/generate.py            # writes the three files above
    python3 scripts/reference/generate.py --out DIR  # writes them into DIR instead

Requirements: Python 3 and PyTorch 1.13 (Debian's python3-torch 1.13.1 was used; it
reports torch.__version__ == "1.13.0a0"), CPU only. It is not run in CI: its output is
committed. The run is deterministic (torch.manual_seed(1234), one generator stream
consumed case after case in the order below), so re-running with the same PyTorch
build reproduces the committed files byte for byte.

Settings: float32 tensors, foreach=False (the single-tensor code path of every
optimizer), two parameter tensors of 13 and 30 elements (neither a multiple of 4, so
SIMD tails are exercised), 25 steps per optimizer case, 100 per schedule case.
Gradients are randn * 0.5 * (1 + sin(step)), with exact zeros at every 7th element and
1e-20 at every element i with i % 11 == 3, so sqrt(0), eps placement and tiny values
are exercised.

One deliberate departure from PyTorch 1.13: NAdam. 1.13's single-tensor NAdam
computes mu_product_next = mu_product * mu * mu_next (mu counted twice), a bug fixed in
PyTorch 2.0, whose torch/optim/nadam.py (_single_tensor_nadam) computes
mu_product_next = _get_value(mu_product) * mu_next. The library implements the 2.x
semantics, so this script replaces torch.optim.nadam._single_tensor_nadam with a
transcription of the 2.0 function (see _single_tensor_nadam_2x below), on float32
tensors as in PyTorch. Every other optimizer and scheduler is PyTorch 1.13's own code.
The options that only exist in PyTorch 2.x (NAdam's and RAdam's decoupled_weight_decay)
have no reference case here. Rprop's and ASGD's single-tensor functions compute the same in
1.13 as in 2.x (2.x adds capturable and differentiable paths, and keeps ASGD's eta and mu as
float32 tensors as 1.13 does); ASGD cases also record the averaged parameters (`averaged`).

L-BFGS (torch.optim.LBFGS: PyTorch 1.13's algorithm is today's, which adds only complex
parameters) steps with a closure, so its cases are not gradient streams but a closure
problem, drawn from a stream of its own (torch.manual_seed(SEED + 1), after the other
files, which it leaves as they were): the two tensors x_k minimise
    f(x) = sum_k sum_i c_k[i] / 2 * (x_k[i] - a_k[i])^2 + q / 4 * (x_k[i] - a_k[i])^4
with curvatures c_k[i] = 10^(((7 i) mod n_k) / n_k - 1/2) (about 0.32 to 3.1), q = 0.1 and
targets a_k = randn * 0.5; the closure computes f and its gradient with autograd (float32).
A well-conditioned problem on purpose: L-BFGS amplifies rounding (PyTorch's own float64
run of an ill-conditioned or non-convex problem leaves its float32 run by far more than
the tolerance within a few steps); on this one the float64 run stays within a few percent
of it (the smaller budgets converge over several steps, the default one in the first).
"""

import argparse
import json
import math
import os
import sys
import warnings

import torch
import torch.optim.swa_utils
import torch.optim.nadam as _nadam

# --------------------------------------------------------------------------------------
# NAdam with PyTorch 2.x's mu_product_next.
# Transcribed from PyTorch 2.0's torch/optim/nadam.py, _single_tensor_nadam (its
# non-differentiable branch; later 2.x releases compute the same thing). It differs from
# 1.13's function in two places:
#   - mu_product_next: 2.x reads mu_product back as a Python float (float64) and
#     multiplies it by mu_next once; 1.13 multiplies the float32 tensor by mu * mu_next
#     (mu counted twice: the bug);
#   - the first moment: 2.x updates it with exp_avg.lerp_(grad, 1 - beta1), 1.13 with
#     exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1) (same formula, a few ulps apart).
# --------------------------------------------------------------------------------------


def _single_tensor_nadam_2x(params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps, *,
                            beta1, beta2, lr, weight_decay, momentum_decay, eps):
    for i, param in enumerate(params):
        grad = grads[i]
        exp_avg = exp_avgs[i]
        exp_avg_sq = exp_avg_sqs[i]
        mu_product = mu_products[i]
        step_t = state_steps[i]
        # update step
        step_t += 1
        step = step_t.item()

        bias_correction2 = 1 - beta2 ** step

        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)

        # calculate the momentum cache \mu^{t} and \mu^{t+1}
        mu = beta1 * (1. - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1. - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))

        # update mu_product (a float32 scalar tensor, as in PyTorch)
        mu_product *= mu

        # decay the first and second moment running average coefficient
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = exp_avg_sq.div(bias_correction2).sqrt()

        # PyTorch 2.x: mu_product_next = _get_value(mu_product) * mu_next, a Python float
        mu_product_next = mu_product.item() * mu_next
        denom.add_(eps)
        param.addcdiv_(grad, denom, value=(-lr * (1. - mu) / (1. - mu_product.item())))
        param.addcdiv_(exp_avg, denom, value=(-lr * mu_next) / (1. - mu_product_next))


_nadam._single_tensor_nadam = _single_tensor_nadam_2x

GENERATOR = ("PyTorch %s (Debian python3-torch 1.13.1), CPU, float32, foreach=False; "
             "NAdam with PyTorch 2.x's fix of mu_product_next" % torch.__version__)
NOTE = ("lr[i]/momentum[i] are the values in effect for optimizer step i (read before "
        "scheduler.step()). params[s] are the parameters after step s+1.")

SEED = 1234
SIZES = (13, 30)
OPT_STEPS = 25
SCHED_STEPS = 100

# --------------------------------------------------------------------------------------
# Optimizer cases: (name, PyTorch class, constructor options in PyTorch spelling, extras).
# The order matters: the cases draw their data from one random stream in this order.
# --------------------------------------------------------------------------------------

# A cosine learning rate from 2 * lr down to ~0, and betas[0] / momentum falling linearly
# from 0.95, both set on the param group before each step.
COSINE_LR = [0.01 * (1 + math.cos(math.pi * s / OPT_STEPS)) for s in range(OPT_STEPS)]
FALLING_MOMENTUM = [0.95 - 0.1 * s / OPT_STEPS for s in range(OPT_STEPS)]

OPTIMIZER_CASES = [
    ('sgd/plain', 'SGD', {'lr': 0.1}, {}),
    ('sgd/momentum', 'SGD', {'lr': 0.05, 'momentum': 0.9}, {}),
    ('sgd/momentum-dampening', 'SGD', {'lr': 0.05, 'momentum': 0.9, 'dampening': 0.1}, {}),
    ('sgd/nesterov', 'SGD', {'lr': 0.05, 'momentum': 0.9, 'nesterov': True}, {}),
    ('sgd/weight-decay', 'SGD', {'lr': 0.05, 'momentum': 0.5, 'weight_decay': 0.01}, {}),
    ('sgd/maximize', 'SGD', {'lr': 0.05, 'momentum': 0.9, 'maximize': True}, {}),
    ('adagrad/default', 'Adagrad', {'lr': 0.05}, {}),
    ('adagrad/lr-decay', 'Adagrad', {'lr': 0.05, 'lr_decay': 0.01}, {}),
    ('adagrad/init-acc-wd', 'Adagrad', {'lr': 0.05, 'initial_accumulator_value': 0.1, 'weight_decay': 0.01}, {}),
    ('rmsprop/default', 'RMSprop', {'lr': 0.01}, {}),
    ('rmsprop/centered', 'RMSprop', {'lr': 0.01, 'centered': True}, {}),
    ('rmsprop/momentum', 'RMSprop', {'lr': 0.01, 'momentum': 0.9}, {}),
    ('rmsprop/centered-momentum-wd', 'RMSprop',
     {'lr': 0.01, 'alpha': 0.9, 'centered': True, 'momentum': 0.8, 'weight_decay': 0.01}, {}),
    ('adam/default', 'Adam', {'lr': 0.01}, {}),
    ('adam/amsgrad', 'Adam', {'lr': 0.01, 'amsgrad': True}, {}),
    ('adam/l2-weight-decay', 'Adam', {'lr': 0.01, 'weight_decay': 0.05}, {}),
    ('adam/maximize', 'Adam', {'lr': 0.01, 'maximize': True}, {}),
    ('adamw/default', 'AdamW', {'lr': 0.01}, {}),
    ('adamw/amsgrad', 'AdamW', {'lr': 0.01, 'weight_decay': 0.1, 'amsgrad': True}, {}),
    ('nadam/default', 'NAdam', {'lr': 0.01}, {}),
    ('nadam/weight-decay', 'NAdam', {'lr': 0.01, 'weight_decay': 0.05}, {}),
    ('nadam/no-momentum-decay', 'NAdam', {'lr': 0.01, 'momentum_decay': 0.0}, {}),
    ('adamax/default', 'Adamax', {'lr': 0.01}, {}),
    ('adamax/weight-decay', 'Adamax', {'lr': 0.01, 'betas': [0.8, 0.99], 'weight_decay': 0.05}, {}),
    ('radam/default', 'RAdam', {'lr': 0.01}, {}),
    ('adadelta/default', 'Adadelta', {'lr': 1.0}, {}),
    ('sgd/scheduled', 'SGD', {'lr': 0.01, 'momentum': 0.9, 'nesterov': True},
     {'lrPerStep': COSINE_LR, 'momentumPerStep': FALLING_MOMENTUM}),
    ('adam/scheduled', 'Adam', {'lr': 0.01}, {'lrPerStep': COSINE_LR, 'momentumPerStep': FALLING_MOMENTUM}),
    ('nadam/scheduled-lr', 'NAdam', {'lr': 0.01}, {'lrPerStep': COSINE_LR}),
    # Appended later (the cases above keep their data): Rprop and ASGD, whose single-tensor
    # functions compute the same in PyTorch 1.13 and 2.x. ASGD cases also record `ax`.
    ('rprop/default', 'Rprop', {'lr': 0.01}, {}),
    ('rprop/etas-step-sizes', 'Rprop', {'lr': 0.05, 'etas': [0.3, 1.5], 'step_sizes': [0.01, 0.1]}, {}),
    ('rprop/maximize', 'Rprop', {'lr': 0.01, 'maximize': True}, {}),
    ('rprop/scheduled-lr', 'Rprop', {'lr': 0.01}, {'lrPerStep': COSINE_LR}),
    ('asgd/default', 'ASGD', {'lr': 0.01}, {}),
    ('asgd/averaging', 'ASGD', {'lr': 0.05, 'lambd': 0.01, 'alpha': 0.5, 't0': 5}, {}),
    ('asgd/wd-maximize', 'ASGD', {'lr': 0.02, 'weight_decay': 0.05, 't0': 0, 'maximize': True}, {}),
    ('asgd/scheduled-lr', 'ASGD', {'lr': 0.01, 'lambd': 0.1, 't0': 10}, {'lrPerStep': COSINE_LR}),
]


def gradient(n, step):
    g = torch.randn(n) * (0.5 * (1 + math.sin(step)))
    for i in range(n):
        if i % 7 == 0:
            g[i] = 0.0
        if i % 11 == 3:
            g[i] = 1e-20  # stored as the nearest float32, 9.999999682655225e-21
    return g


def torch_kwargs(options):
    kw = dict(options)
    if 'betas' in kw:
        kw['betas'] = tuple(kw['betas'])
    kw['foreach'] = False
    return kw


def optimizer_case(name, cls_name, options, extras):
    params = [torch.randn(n) for n in SIZES]
    grads = [[gradient(n, s) for n in SIZES] for s in range(OPT_STEPS)]
    case = {
        'name': name,
        'optimizer': cls_name,
        'options': options,
        'params0': [p.tolist() for p in params],
        'grads': [[g.tolist() for g in gs] for gs in grads],
    }
    tensors = [p.clone().requires_grad_(True) for p in params]
    opt = getattr(torch.optim, cls_name)(tensors, **torch_kwargs(options))
    group = opt.param_groups[0]
    trajectory = []
    averaged = []
    for s in range(OPT_STEPS):
        if 'lrPerStep' in extras:
            group['lr'] = extras['lrPerStep'][s]
        if 'momentumPerStep' in extras:
            if 'betas' in group:
                group['betas'] = (extras['momentumPerStep'][s], group['betas'][1])
            else:
                group['momentum'] = extras['momentumPerStep'][s]
        for t, g in zip(tensors, grads[s]):
            t.grad = g.clone()
        opt.step()
        trajectory.append([t.detach().tolist() for t in tensors])
        if cls_name == 'ASGD':
            averaged.append([opt.state[t]['ax'].tolist() for t in tensors])
    case['params'] = trajectory
    if averaged:
        case['averaged'] = averaged
    case.update(extras)
    return case


# --------------------------------------------------------------------------------------
# Schedule cases: (name, optimizer, scheduler options in PyTorch spelling). The family
# (the part of the name before '/') picks the scheduler class.
# --------------------------------------------------------------------------------------

SCHEDULERS = {
    'onecycle': torch.optim.lr_scheduler.OneCycleLR,
    'cyclic': torch.optim.lr_scheduler.CyclicLR,
    'exponential': torch.optim.lr_scheduler.ExponentialLR,
    'step': torch.optim.lr_scheduler.StepLR,
    'multistep': torch.optim.lr_scheduler.MultiStepLR,
    'cosine': torch.optim.lr_scheduler.CosineAnnealingLR,
    'cosine-warm-restarts': torch.optim.lr_scheduler.CosineAnnealingWarmRestarts,
    'linear': torch.optim.lr_scheduler.LinearLR,
    'polynomial': torch.optim.lr_scheduler.PolynomialLR,
    'constant': torch.optim.lr_scheduler.ConstantLR,
    'sequential': torch.optim.lr_scheduler.SequentialLR,
    'multiplicative': torch.optim.lr_scheduler.MultiplicativeLR,
    'swa': torch.optim.swa_utils.SWALR,
}

# MultiplicativeLR's lr_lambda, by the name a case gives in its options (JSON holds no functions;
# test/schedules-reference.test.ts has the same functions under the same names).
LR_LAMBDAS = {
    'constant-0.95': lambda epoch: 0.95,
    'step-dependent': lambda epoch: 0.5 if epoch % 10 == 0 else 1.0 - 0.002 * epoch,
}

SCHEDULE_CASES = [
    ('onecycle/cos', 'SGD', {'max_lr': 0.1, 'total_steps': 100}),
    ('onecycle/linear', 'SGD', {'max_lr': 0.1, 'total_steps': 100, 'anneal_strategy': 'linear'}),
    ('onecycle/three-phase', 'SGD', {'max_lr': 0.1, 'total_steps': 100, 'three_phase': True, 'pct_start': 0.25}),
    ('onecycle/adam-betas', 'Adam', {'max_lr': 0.01, 'total_steps': 100, 'div_factor': 10.0,
                                     'final_div_factor': 100.0, 'base_momentum': 0.8, 'max_momentum': 0.9}),
    ('onecycle/no-momentum', 'SGD', {'max_lr': 0.5, 'total_steps': 100, 'cycle_momentum': False, 'pct_start': 0.5}),
    ('cyclic/triangular', 'SGD', {'base_lr': 0.001, 'max_lr': 0.1, 'step_size_up': 10}),
    ('cyclic/triangular2', 'SGD', {'base_lr': 0.001, 'max_lr': 0.1, 'step_size_up': 7, 'step_size_down': 13,
                                   'mode': 'triangular2'}),
    ('cyclic/exp-range', 'SGD', {'base_lr': 0.001, 'max_lr': 0.1, 'step_size_up': 10, 'mode': 'exp_range',
                                 'gamma': 0.98}),
    ('exponential', 'SGD', {'gamma': 0.95}),
    ('step', 'SGD', {'step_size': 15, 'gamma': 0.5}),
    ('multistep', 'SGD', {'milestones': [10, 40, 70], 'gamma': 0.3}),
    ('cosine', 'SGD', {'T_max': 60, 'eta_min': 0.001}),
    ('cosine-warm-restarts', 'SGD', {'T_0': 10, 'T_mult': 2, 'eta_min': 0.0005}),
    ('linear', 'SGD', {'start_factor': 0.1, 'end_factor': 1.0, 'total_iters': 20}),
    ('polynomial', 'SGD', {'total_iters': 50, 'power': 2.0}),
    ('constant', 'SGD', {'factor': 0.5, 'total_iters': 10}),
    ('sequential/warmup-cosine', 'SGD', {'schedulers': [['linear', {'start_factor': 0.01, 'total_iters': 10}],
                                                        ['cosine', {'T_max': 90}]],
                                         'milestones': [10]}),
    ('multiplicative/constant', 'SGD', {'lr_lambda': 'constant-0.95'}),
    ('multiplicative/step-dependent', 'Adam', {'lr_lambda': 'step-dependent'}),
    ('swa/cos', 'SGD', {'swa_lr': 0.05, 'anneal_epochs': 10, 'anneal_strategy': 'cos'}),
    ('swa/linear', 'Adam', {'swa_lr': 0.01, 'anneal_epochs': 25, 'anneal_strategy': 'linear'}),
    ('swa/no-anneal', 'SGD', {'swa_lr': 0.05, 'anneal_epochs': 0}),
    ('swa/default', 'SGD', {'swa_lr': 0.2}),
    # SWALR as torch.optim.swa_utils documents it: built at the start beside another scheduler,
    # which is stepped until swa_start; SWALR is stepped after, and anneals from the lr the
    # first one left.
    ('swa-switch/after-multiplicative', 'SGD', {'before': ['multiplicative', {'lr_lambda': 'constant-0.95'}], 'swa_start': 40,
                                                'swa': {'swa_lr': 0.05, 'anneal_epochs': 20, 'anneal_strategy': 'linear'}}),
    ('swa-switch/after-cosine', 'Adam', {'before': ['cosine', {'T_max': 100}], 'swa_start': 75,
                                         'swa': {'swa_lr': 0.01, 'anneal_epochs': 5}}),
]

PLATEAU_OPTIONS = {'mode': 'min', 'factor': 0.5, 'patience': 5, 'threshold': 0.001, 'threshold_mode': 'rel',
                   'cooldown': 2, 'min_lr': 0.0001}
# Improving for 30 steps, then a plateau that wobbles by less than the threshold.
PLATEAU_METRICS = [1 / (1 + 0.1 * i) if i < 30 else 0.75 + 0.001 * ((2 * i) % 5) for i in range(SCHED_STEPS)]

BASE_LR = 0.1
BASE_MOMENTUM = 0.9


def make_optimizer(kind):
    w = torch.zeros(4, requires_grad=True)
    if kind == 'SGD':
        return torch.optim.SGD([w], lr=BASE_LR, momentum=BASE_MOMENTUM, foreach=False)
    return torch.optim.Adam([w], lr=BASE_LR, betas=(BASE_MOMENTUM, 0.999), foreach=False)


class SwaSwitch:
    """Steps `before` after optimizer steps 0 .. swa_start - 1 and `swa` after the later ones."""

    def __init__(self, before, swa, swa_start):
        self.before, self.swa, self.swa_start, self.count = before, swa, swa_start, 0

    def step(self):
        (self.swa if self.count >= self.swa_start else self.before).step()
        self.count += 1


def make_scheduler(opt, family, options):
    if family == 'multiplicative':
        return SCHEDULERS[family](opt, lr_lambda=LR_LAMBDAS[options['lr_lambda']])
    if family == 'swa-switch':
        kind, o = options['before']
        return SwaSwitch(make_scheduler(opt, kind, o), SCHEDULERS['swa'](opt, **options['swa']), options['swa_start'])
    if family == 'sequential':
        # 1.13's SequentialLR calls step(0) on its first scheduler, which warns (harmlessly).
        warnings.filterwarnings('ignore', message='The epoch parameter')
        inner = [SCHEDULERS[kind](opt, **o) for kind, o in options['schedulers']]
        return SCHEDULERS[family](opt, schedulers=inner, milestones=options['milestones'])
    return SCHEDULERS[family](opt, **options)


def momentum_of(group):
    return group['betas'][0] if 'betas' in group else group['momentum']


def schedule_case(name, kind, options):
    opt = make_optimizer(kind)
    sched = make_scheduler(opt, name.split('/')[0], options)
    group = opt.param_groups[0]
    lrs, moms = [], []
    for _ in range(SCHED_STEPS):
        lrs.append(group['lr'])
        moms.append(momentum_of(group))
        opt.step()  # no gradients: a no-op, but keeps the scheduler's call order check quiet
        sched.step()
    return {'name': name, 'optimizer': kind, 'baseLr': BASE_LR, 'baseMomentum': BASE_MOMENTUM,
            'options': options, 'lr': lrs, 'momentum': moms}


def plateau_case():
    opt = make_optimizer('SGD')
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **PLATEAU_OPTIONS)
    group = opt.param_groups[0]
    lrs = []
    for i in range(SCHED_STEPS):
        lrs.append(group['lr'])
        opt.step()
        sched.step(PLATEAU_METRICS[i])
    return {'name': 'reduce-on-plateau', 'optimizer': 'SGD', 'baseLr': BASE_LR, 'options': PLATEAU_OPTIONS,
            'metrics': PLATEAU_METRICS, 'lr': lrs}


# --------------------------------------------------------------------------------------
# L-BFGS cases: (name, options in PyTorch spelling). Each draws its own data in this order.
# --------------------------------------------------------------------------------------

LBFGS_STEPS = 25
LBFGS_Q = 0.1
LBFGS_CASES = [
    ('lbfgs/default', {}),
    ('lbfgs/strong-wolfe', {'line_search_fn': 'strong_wolfe'}),
    ('lbfgs/short-history', {'max_iter': 8, 'history_size': 3}),
    ('lbfgs/few-iterations', {'lr': 0.5, 'max_iter': 4, 'history_size': 5}),
    ('lbfgs/strong-wolfe-short-history', {'max_iter': 6, 'history_size': 3, 'line_search_fn': 'strong_wolfe'}),
    ('lbfgs/strong-wolfe-eval-budget', {'lr': 2.0, 'max_iter': 10, 'max_eval': 5, 'line_search_fn': 'strong_wolfe'}),
]


def lbfgs_curvature(n):
    return torch.tensor([10.0 ** (((7 * i) % n) / n - 0.5) for i in range(n)])


def lbfgs_case(name, options):
    params = [torch.randn(n) for n in SIZES]
    targets = [torch.randn(n) * 0.5 for n in SIZES]
    curvature = [lbfgs_curvature(n) for n in SIZES]
    tensors = [p.clone().requires_grad_(True) for p in params]
    opt = torch.optim.LBFGS(tensors, **options)
    trajectory, losses, n_iter, func_evals = [], [], [], []
    for s in range(LBFGS_STEPS):
        def closure():
            opt.zero_grad()
            loss = 0
            for x, a, c in zip(tensors, targets, curvature):
                e = x - a
                loss = loss + (c / 2 * e * e).sum() + (LBFGS_Q / 4 * e ** 4).sum()
            loss.backward()
            return loss
        losses.append(float(opt.step(closure)))
        trajectory.append([t.detach().tolist() for t in tensors])
        state = opt.state[tensors[0]]
        n_iter.append(state['n_iter'])
        func_evals.append(state['func_evals'])
    return {'name': name, 'optimizer': 'LBFGS', 'options': options, 'q': LBFGS_Q,
            'params0': [p.tolist() for p in params], 'targets': [a.tolist() for a in targets],
            'params': trajectory, 'losses': losses, 'nIter': n_iter, 'funcEvals': func_evals}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, '..', '..', 'test', 'fixtures', 'reference')
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default=default_out, help='output directory (default: test/fixtures/reference)')
    args = parser.parse_args()

    if not torch.__version__.startswith('1.13'):
        print('warning: written for PyTorch 1.13, running %s' % torch.__version__, file=sys.stderr)
    torch.set_default_dtype(torch.float32)
    torch.manual_seed(SEED)

    optimizers = {'generator': GENERATOR, 'note': NOTE,
                  'cases': [optimizer_case(*c) for c in OPTIMIZER_CASES]}
    schedules = {'generator': GENERATOR, 'note': NOTE,
                 'cases': [schedule_case(*c) for c in SCHEDULE_CASES] + [plateau_case()]}

    torch.manual_seed(SEED + 1)
    lbfgs = {'generator': GENERATOR.split(';')[0] + ', LBFGS', 'note': 'params[s] are the parameters after step s+1; '
             'losses[s] is what step s returned (the loss before it); nIter and funcEvals are the state after it.',
             'cases': [lbfgs_case(*c) for c in LBFGS_CASES]}

    os.makedirs(args.out, exist_ok=True)
    for filename, data in (('optimizers.json', optimizers), ('schedules.json', schedules), ('lbfgs.json', lbfgs)):
        path = os.path.join(args.out, filename)
        with open(path, 'w') as f:
            json.dump(data, f)
        print('wrote %s (%d cases)' % (os.path.relpath(path), len(data['cases'])))


if __name__ == '__main__':
    main()
