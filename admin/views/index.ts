import type { View } from '../view';
import { agents } from './agents';
import { audit } from './audit';
import { doctor } from './doctor';
import { egress } from './egress';
import { inference } from './inference';
import { installView } from './install';
import { overview } from './overview';
import { tokens } from './tokens';
import { tunnels } from './tunnels';
import { warp } from './warp';
import { workloads } from './workloads';

/** The console's views, in tab order; a new view is one module and one line here. */
export const VIEWS: readonly View[] = [overview, tunnels, doctor, warp, workloads, inference, egress, agents, tokens, installView, audit];
