-- Run once by the postgres image on an empty data directory (docker-compose.yml).
-- config-api and analytics-worker each get a database of their own: both apply sqlx
-- migrations at startup, and each keeps its own `_sqlx_migrations` table.
CREATE DATABASE vexil_config;
CREATE DATABASE vexil_analytics;
