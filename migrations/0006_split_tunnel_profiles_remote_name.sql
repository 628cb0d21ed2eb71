CREATE TABLE `split_tunnel_profiles` (
	`account` text NOT NULL,
	`profile` text NOT NULL,
	`drift_policy` text DEFAULT 'alert' NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`account`, `profile`)
);
--> statement-breakpoint
ALTER TABLE `cf_sync` ADD `remote_name` text;