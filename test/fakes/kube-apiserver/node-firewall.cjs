// Test code: a node-local firewall for the fake kubelet (jobs.ts). Loaded with `node --require` into a container process
// the fake runs "on" a node, it refuses (REJECT) or black-holes (DROP) TCP connections to the "address:port" entries of
// FAKE_NODE_FIREWALL, so a probe sees what it would see behind such a rule on a real node.
'use strict';
/* global require, process */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a `node --require` preload must be CommonJS
const net = require('node:net');

const rules = JSON.parse(process.env.FAKE_NODE_FIREWALL || '{}');
const reject = new Set(rules.reject || []);
const drop = new Set(rules.drop || []);
const connect = net.Socket.prototype.connect;

net.Socket.prototype.connect = function (...args) {
  // net.connect() passes its normalized arguments as one array.
  const normalized = Array.isArray(args[0]) ? args[0] : args;
  const options =
    typeof normalized[0] === 'object' && normalized[0] !== null ? normalized[0] : { port: normalized[0], host: normalized[1] };
  const target = `${options.host}:${options.port}`;
  if (reject.has(target)) {
    const error = Object.assign(new Error(`connect ECONNREFUSED ${target}`), { code: 'ECONNREFUSED', syscall: 'connect' });
    process.nextTick(() => this.destroy(error));
    return this;
  }
  if (drop.has(target)) return this;
  return connect.apply(this, args);
};
