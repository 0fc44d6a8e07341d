/**
 * Flag bits of the kernels' last argument. The same values live in assembly/common.ts;
 * a test reads both files and checks they agree.
 */
export const MAXIMIZE = 1;
export const WEIGHT_DECAY = 2;
export const DECOUPLED = 4;
export const AMSGRAD = 8;
export const MOMENTUM = 16;
export const NESTEROV = 32;
export const FIRST_STEP = 64;
export const CENTERED = 128;
export const PLAIN = 256;
