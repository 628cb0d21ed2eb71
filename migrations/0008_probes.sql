CREATE TABLE `probe_schedules` (
	`id` text PRIMARY KEY NOT NULL,
	`cluster_id` text NOT NULL,
	`request` text NOT NULL,
	`every_minutes` integer NOT NULL,
	`next_run_at` text NOT NULL,
	`last_probe_id` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `probe_schedules_due` ON `probe_schedules` (`next_run_at`);--> statement-breakpoint
CREATE TABLE `probes` (
	`id` text PRIMARY KEY NOT NULL,
	`cluster_id` text NOT NULL,
	`schedule_id` text,
	`request` text NOT NULL,
	`status` text NOT NULL,
	`matrix` text,
	`changes` text,
	`created_at` text NOT NULL,
	`completed_at` text,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `probes_cluster` ON `probes` (`cluster_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `probes_schedule` ON `probes` (`schedule_id`,`created_at`);