export * from './config';
export * from './hostname';
export * from './ingress';
export * from './matcher';
export * from './origin-service';
export * from './path-regex';
export * from './origin-request-read';
