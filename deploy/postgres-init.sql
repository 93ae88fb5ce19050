-- Runs once, when the postgres volume is first initialised
-- (/docker-entrypoint-initdb.d). One database per consumer:
--   hatchet         Hatchet engine (hatchet-lite), migrated by the engine itself
--   celery          Celery result backend (celery_taskmeta), shared by the
--                   legacy Celery workers and hatchet-worker's CeleryBridge
--   hatchet_worker  hatchet-worker's own records (shim executions)
--   unstract        the platform's database (PLATFORM_DATABASE_URL), where
--                   user-onboarding provisions organisations and users
CREATE DATABASE hatchet;
CREATE DATABASE celery;
CREATE DATABASE hatchet_worker;
CREATE DATABASE unstract;
