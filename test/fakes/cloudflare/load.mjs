// Loads the Cloudflare API fake from plain Node (Node 24 strips the TypeScript types): used by serve.mjs and benches.
import { registerHooks } from 'node:module';

let hooked = false;

/** Imports test/fakes/cloudflare/server.ts; its modules import each other without extensions, resolved here to .ts. */
export async function loadFake() {
  if (!hooked) {
    hooked = true;
    registerHooks({
      resolve(specifier, context, next) {
        try {
          return next(specifier, context);
        } catch (error) {
          if (specifier.startsWith('.') && !specifier.endsWith('.ts')) return next(`${specifier}.ts`, context);
          throw error;
        }
      },
    });
  }
  return import('./server.ts');
}
