export * from './result';
export * from './hostname';
export * from './kubernetes';
export * from './path-prefix';
export * from './cidr';
export * from './origin-url';
export * from './path-regex';
