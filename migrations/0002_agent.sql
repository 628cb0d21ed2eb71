CREATE TABLE `apply_reports` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`cluster_id` text NOT NULL,
	`revision` integer NOT NULL,
	`hash` text NOT NULL,
	`applied` integer NOT NULL,
	`duration_ms` integer NOT NULL,
	`results` text NOT NULL,
	`conflicts` text NOT NULL,
	`pruned` text NOT NULL,
	`prune_refused` text,
	`health` text NOT NULL,
	`agent_version` text NOT NULL,
	`received_at` text NOT NULL,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `apply_reports_cluster` ON `apply_reports` (`cluster_id`,`id`);--> statement-breakpoint
CREATE TABLE `bootstrap_tokens` (
	`hash` text PRIMARY KEY NOT NULL,
	`cluster_id` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`used_at` text,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `bootstrap_tokens_cluster` ON `bootstrap_tokens` (`cluster_id`);