CREATE TABLE `cf_dns_records` (
	`hostname` text PRIMARY KEY NOT NULL,
	`account` text NOT NULL,
	`zone_id` text NOT NULL,
	`record_id` text NOT NULL,
	`tunnel_id` text NOT NULL,
	`content` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `cf_dns_records_tunnel` ON `cf_dns_records` (`tunnel_id`);--> statement-breakpoint
CREATE TABLE `cf_sync` (
	`key` text PRIMARY KEY NOT NULL,
	`account` text NOT NULL,
	`kind` text NOT NULL,
	`target` text NOT NULL,
	`last_success_at` text,
	`remote_version` integer,
	`pushed_hash` text,
	`owned` text,
	`last_error` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`conflict` text,
	`drift` text,
	`drift_checked_at` text,
	`rate_limited_until` text,
	`last_run_id` text,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `cf_sync_account` ON `cf_sync` (`account`,`kind`);