import { createRoute, z } from '@hono/zod-openapi';
import { probe, probeCreate, probeSchedule, probeScheduleCreate } from '../../src/shared/api/probe';
import type { Router } from '../app';
import {
  createProbe,
  createProbeSchedule,
  deleteProbeSchedule,
  getProbe,
  lastMatrix,
  listProbeSchedules,
  listProbes,
} from '../services/probes';
import { errors, idParam, json, security } from './contract';

const probeParams = idParam.extend({ probeId: z.string().min(1).max(100) });
const scheduleParams = idParam.extend({ scheduleId: z.string().min(1).max(100) });

/** Mounts the node egress matrix: /v1/clusters/{id}/probes and /v1/clusters/{id}/probe-schedules (docs/diagnostics.md). */
export function registerProbes(app: Router): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/clusters/{id}/probes',
      tags: ['diagnostics'],
      security,
      summary:
        "Probes egress from the cluster's nodes: the agent runs a Job per node that resolves, connects to and optionally TLS-handshakes each target",
      request: { params: idParam, body: { ...json(probeCreate), required: true } },
      responses: { 201: json(probe, 'the pending probe; poll GET …/probes/{probeId}'), ...errors },
    }),
    async (c) => c.json(await createProbe(c.get('deps'), c.req.valid('param').id, c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/clusters/{id}/probes',
      tags: ['diagnostics'],
      security,
      summary: "The cluster's latest probes, newest first",
      request: { params: idParam, query: z.object({ limit: z.coerce.number().int().min(1).max(50).default(10) }) },
      responses: { 200: json(z.object({ items: z.array(probe) }), 'probes'), ...errors },
    }),
    async (c) => c.json({ items: await listProbes(c.get('deps'), c.req.valid('param').id, c.req.valid('query').limit) }, 200),
  );

  // Registered before /{probeId} so "last" is never read as a probe id.
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/clusters/{id}/probes/last',
      tags: ['diagnostics'],
      security,
      summary: "The cluster's last completed probe: its current egress matrix",
      request: { params: idParam },
      responses: { 200: json(probe, 'the last completed probe'), ...errors },
    }),
    async (c) => c.json(await lastMatrix(c.get('deps'), c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/clusters/{id}/probes/{probeId}',
      tags: ['diagnostics'],
      security,
      summary: 'One probe: pending, completed with its node × target matrix, or expired',
      request: { params: probeParams },
      responses: { 200: json(probe, 'the probe'), ...errors },
    }),
    async (c) => {
      const { id, probeId } = c.req.valid('param');
      return c.json(await getProbe(c.get('deps'), id, probeId), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/clusters/{id}/probe-schedules',
      tags: ['diagnostics'],
      security,
      summary: 'Runs a probe every N minutes (Cron Trigger); each run records the cells that changed since the previous one',
      request: { params: idParam, body: { ...json(probeScheduleCreate), required: true } },
      responses: { 201: json(probeSchedule, 'the schedule; its first run is due at once'), ...errors },
    }),
    async (c) => c.json(await createProbeSchedule(c.get('deps'), c.req.valid('param').id, c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/clusters/{id}/probe-schedules',
      tags: ['diagnostics'],
      security,
      summary: "The cluster's probe schedules",
      request: { params: idParam },
      responses: { 200: json(z.object({ items: z.array(probeSchedule) }), 'schedules'), ...errors },
    }),
    async (c) => c.json({ items: await listProbeSchedules(c.get('deps'), c.req.valid('param').id) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/clusters/{id}/probe-schedules/{scheduleId}',
      tags: ['diagnostics'],
      security,
      summary: 'Deletes a probe schedule (the probes it ran stay)',
      request: { params: scheduleParams },
      responses: { 204: { description: 'deleted' }, ...errors },
    }),
    async (c) => {
      const { id, scheduleId } = c.req.valid('param');
      await deleteProbeSchedule(c.get('deps'), id, scheduleId);
      return c.body(null, 204);
    },
  );
}
