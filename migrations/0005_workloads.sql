CREATE TABLE `workloads` (
	`id` text PRIMARY KEY NOT NULL,
	`cluster_id` text NOT NULL,
	`namespace` text NOT NULL,
	`spec` text NOT NULL,
	`secrets_ciphertext` text,
	`route_id` text,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE restrict
);
--> statement-breakpoint
CREATE INDEX `workloads_cluster` ON `workloads` (`cluster_id`);