import { applyD1Migrations, env } from 'cloudflare:test';
import { seedTokens } from './helpers';

// Every test file starts from the migrated schema and one token per role.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await seedTokens();
