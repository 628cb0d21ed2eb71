CREATE TABLE `cluster_infra` (
	`cluster_id` text PRIMARY KEY NOT NULL,
	`instances` text NOT NULL,
	`reported_at` text NOT NULL,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `workload_routes` (
	`route_id` text PRIMARY KEY NOT NULL,
	`workload_id` text NOT NULL,
	FOREIGN KEY (`route_id`) REFERENCES `routes`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`workload_id`) REFERENCES `workloads`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `workload_routes_workload` ON `workload_routes` (`workload_id`);