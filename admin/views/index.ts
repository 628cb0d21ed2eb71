import type { View } from '../view';
import { audit } from './audit';
import { doctor } from './doctor';
import { inference } from './inference';
import { installView } from './install';
import { overview } from './overview';
import { tunnels } from './tunnels';
import { warp } from './warp';
import { workloads } from './workloads';

/** The console's views, in tab order; a new view is one module and one line here. */
export const VIEWS: readonly View[] = [overview, tunnels, doctor, warp, workloads, inference, installView, audit];
