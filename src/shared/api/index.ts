export * from './common';
export * from './fields';
export * from './cluster';
export * from './tunnel';
export * from './route';
export * from './private-network';
export * from './split-tunnel';
export * from './token';
