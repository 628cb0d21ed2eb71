CREATE TABLE `prune_approvals` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`cluster_id` text NOT NULL,
	`revision` integer NOT NULL,
	`objects` text NOT NULL,
	`approved_by` text NOT NULL,
	`approved_at` text NOT NULL,
	`used_at` text,
	`used_revision` integer,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `prune_approvals_cluster` ON `prune_approvals` (`cluster_id`,`id`);--> statement-breakpoint
ALTER TABLE `apply_reports` ADD `prune_refused_objects` text;--> statement-breakpoint
ALTER TABLE `apply_reports` ADD `prune_approval` text;--> statement-breakpoint
ALTER TABLE `clusters` ADD `prune_max_deletes` integer DEFAULT 25 NOT NULL;--> statement-breakpoint
ALTER TABLE `clusters` ADD `prune_window_seconds` integer DEFAULT 600 NOT NULL;