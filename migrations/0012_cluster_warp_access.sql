ALTER TABLE `clusters` ADD `api_server_address` text DEFAULT '10.43.0.1' NOT NULL;--> statement-breakpoint
ALTER TABLE `clusters` ADD `cluster_ca` text;