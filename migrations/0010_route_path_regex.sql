DROP INDEX `routes_tunnel_host_path`;--> statement-breakpoint
ALTER TABLE `routes` ADD `path_regex` text DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `routes_tunnel_host_path` ON `routes` (`tunnel_id`,`hostname`,`path`,`path_regex`);