/** Image encoders (spec section 4). */
export * from './encoder.js';
export * from './resnet.js';
export * from './train.js';
export * from './features.js';
