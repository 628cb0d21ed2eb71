CREATE TABLE `api_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`hash` text NOT NULL,
	`role` text NOT NULL,
	`scopes` text NOT NULL,
	`expires_at` text,
	`last_used_at` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_hash` ON `api_tokens` (`hash`);--> statement-breakpoint
CREATE TABLE `audit` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` text NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`entity_type` text NOT NULL,
	`entity_id` text NOT NULL,
	`before` text,
	`after` text,
	`request_id` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_entity` ON `audit` (`entity_type`,`entity_id`);--> statement-breakpoint
CREATE TABLE `clusters` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`labels` text NOT NULL,
	`nodes` text NOT NULL,
	`desired_revision` integer DEFAULT 1 NOT NULL,
	`applied_revision` integer,
	`agent_credential_hash` text,
	`identity` text,
	`connection` text DEFAULT 'never' NOT NULL,
	`last_seen_at` text,
	`agent_version` text,
	`kubernetes_version` text,
	`node_count` integer,
	`health` text,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `inference_backends` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`base_url` text NOT NULL,
	`credentials_ciphertext` text,
	`allowed_models` text NOT NULL,
	`timeouts` text NOT NULL,
	`retry_policy` text NOT NULL,
	`weight` integer DEFAULT 1 NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `ml_backends` (
	`id` text PRIMARY KEY NOT NULL,
	`inference_backend` text NOT NULL,
	`model` text NOT NULL,
	`input_mapping` text NOT NULL,
	`output_mapping` text NOT NULL,
	`labels` text NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account` text NOT NULL,
	`kind` text NOT NULL,
	`target` text NOT NULL,
	`payload` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`next_attempt_at` text,
	`created_at` text NOT NULL,
	`done_at` text
);
--> statement-breakpoint
CREATE INDEX `outbox_pending` ON `outbox` (`status`,`account`);--> statement-breakpoint
CREATE TABLE `private_networks` (
	`id` text PRIMARY KEY NOT NULL,
	`tunnel_id` text NOT NULL,
	`cidr` text NOT NULL,
	`virtual_network_id` text,
	`comment` text DEFAULT '' NOT NULL,
	`cloudflare_route_id` text,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`tunnel_id`) REFERENCES `tunnels`(`id`) ON UPDATE no action ON DELETE restrict
);
--> statement-breakpoint
CREATE UNIQUE INDEX `private_networks_cidr_vnet` ON `private_networks` (`cidr`,`virtual_network_id`);--> statement-breakpoint
CREATE TABLE `routes` (
	`id` text PRIMARY KEY NOT NULL,
	`tunnel_id` text NOT NULL,
	`hostname` text NOT NULL,
	`path` text DEFAULT '' NOT NULL,
	`origin` text NOT NULL,
	`origin_request` text NOT NULL,
	`dns` integer DEFAULT true NOT NULL,
	`access` text,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`tunnel_id`) REFERENCES `tunnels`(`id`) ON UPDATE no action ON DELETE restrict
);
--> statement-breakpoint
CREATE UNIQUE INDEX `routes_tunnel_host_path` ON `routes` (`tunnel_id`,`hostname`,`path`);--> statement-breakpoint
CREATE INDEX `routes_hostname` ON `routes` (`hostname`);--> statement-breakpoint
CREATE TABLE `split_tunnel_entries` (
	`id` text PRIMARY KEY NOT NULL,
	`account` text DEFAULT '' NOT NULL,
	`profile` text NOT NULL,
	`mode` text NOT NULL,
	`address` text,
	`host` text,
	`target` text NOT NULL,
	`description` text NOT NULL,
	`owner` text NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	CONSTRAINT "split_tunnel_one_target" CHECK(("split_tunnel_entries"."address" IS NULL) <> ("split_tunnel_entries"."host" IS NULL))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `split_tunnel_target` ON `split_tunnel_entries` (`account`,`profile`,`mode`,`target`);--> statement-breakpoint
CREATE TABLE `tunnels` (
	`id` text PRIMARY KEY NOT NULL,
	`cluster_id` text NOT NULL,
	`account` text NOT NULL,
	`name` text NOT NULL,
	`cloudflare_tunnel_id` text,
	`placement` text NOT NULL,
	`mode` text NOT NULL,
	`origin_request` text NOT NULL,
	`catch_all` text NOT NULL,
	`drift_policy` text NOT NULL,
	`token_ciphertext` text,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE restrict
);
--> statement-breakpoint
CREATE INDEX `tunnels_cluster` ON `tunnels` (`cluster_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `tunnels_cf_id` ON `tunnels` (`cloudflare_tunnel_id`);--> statement-breakpoint
CREATE TABLE `write_guards` (
	`reason` text NOT NULL,
	CONSTRAINT "write_guard_never_stored" CHECK("write_guards"."reason" = '')
);
