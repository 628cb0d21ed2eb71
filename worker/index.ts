import { createApp } from './app';
import { registerClusters } from './routes/v1-clusters';
import { registerSystem } from './routes/system';

const app = createApp();
registerSystem(app);
registerClusters(app);

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
