"""Drives the unmodified LaunchDarkly Python server SDK for tests/it/python_sdk.rs.

The SDK is configured the way one points it at a Relay Proxy: base, stream and events URI
all at the gateway (streaming or polling mode), or daemon mode reading the gateway's Redis
through the SDK's own Redis integration. The test talks to this script in JSON lines:

- stdout, one object per line, each with an "event":
  {"event": "started", "initialized": ..., "storeInitialized": ..., "dataSourceStatus": ...}
      once, after the client initialised, reported a data source error, or --init-timeout
  {"event": "log", "level": "ERROR", "logger": "ldclient.util", "message": "..."}
      every SDK log line at INFO or above, whenever the SDK logs it
  {"event": "evaluations", "results": [{"value", "variationIndex", "reason"}, ...]}
  {"event": "status", ...the fields of "started"...}
  {"event": "error", "message": "..."} for a command this script could not run
  {"event": "closed"}
- stdin, one command per line:
  {"command": "evaluate", "evaluations": [{"flag": key, "context": {...}, "default": value}]}
      calls variation_detail for each, in order
  {"command": "track", "event": key, "context": {...}, "metricValue": number (optional)}
      calls track; answered with {"event": "tracked"}
  {"command": "flush"} sends the queued analytics events; answered with {"event": "flushed"}
  {"command": "status"}
  {"command": "quit"} (end of input does the same; closing the client flushes its events)

Run with: ld_client.py --mode streaming|polling --base-uri URI --sdk-key KEY [--events-uri URI]
      or: ld_client.py --mode daemon-redis --redis-url URL --redis-prefix PREFIX
"""

import argparse
import json
import logging
import sys
import threading

from ldclient import Context, LDClient
from ldclient.config import Config
from ldclient.feature_store import CacheConfig
from ldclient.integrations import Redis
from ldclient.interfaces import DataSourceState

# The SDK logs from its own threads while the main thread answers commands.
_stdout_lock = threading.Lock()


def emit(message):
    line = json.dumps(message, sort_keys=True)
    with _stdout_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class JsonLinesHandler(logging.Handler):
    """Forwards SDK log records to stdout, so the test can assert on what the SDK reports."""

    def emit(self, record):
        emit(
            {
                "event": "log",
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            }
        )


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", required=True, choices=["streaming", "polling", "daemon-redis"])
    parser.add_argument("--base-uri", help="the gateway, e.g. http://127.0.0.1:8040")
    # Daemon mode never sends it anywhere, but the SDK wants one.
    parser.add_argument("--sdk-key", default="sdk-daemon-mode-needs-no-key")
    parser.add_argument("--redis-url")
    parser.add_argument("--redis-prefix", help="the gateway's prefix and environment id, joined by ':'")
    parser.add_argument(
        "--events-uri",
        help="send analytics events there (event-ingest); without it the SDK sends none",
    )
    parser.add_argument("--init-timeout", type=float, default=30.0, help="seconds to wait for the client to start")
    arguments = parser.parse_args()
    if arguments.mode == "daemon-redis":
        if not arguments.redis_url or not arguments.redis_prefix:
            parser.error("--mode daemon-redis needs --redis-url and --redis-prefix")
    elif not arguments.base_uri:
        parser.error("--mode %s needs --base-uri" % arguments.mode)
    return arguments


def make_config(arguments):
    # Analytics events only with --events-uri (event-ingest). Without it the events URI still
    # points at the gateway, as a Relay-style configuration does, so nothing goes to
    # LaunchDarkly even if events were turned on.
    common = dict(send_events=arguments.events_uri is not None, diagnostic_opt_out=True)
    if arguments.mode == "daemon-redis":
        # Caching off: every evaluation reads Vexil's Redis, so a change shows without
        # waiting for the SDK's default 15-second cache to expire.
        store = Redis.new_feature_store(
            url=arguments.redis_url,
            prefix=arguments.redis_prefix,
            caching=CacheConfig.disabled(),
        )
        return Config(arguments.sdk_key, use_ldd=True, feature_store=store, **common), store
    config = Config(
        arguments.sdk_key,
        base_uri=arguments.base_uri,
        stream_uri=arguments.base_uri,
        events_uri=arguments.events_uri or arguments.base_uri,
        stream=arguments.mode == "streaming",
        # The SDK's minimum (and default); smaller values are raised to it.
        poll_interval=30,
        # A dropped stream comes back quickly in the tests.
        initial_reconnect_delay=0.1,
        **common,
    )
    return config, None


def status(client, store):
    data_source = client.data_source_status_provider.status
    error = data_source.error
    return {
        "initialized": client.is_initialized(),
        # Daemon mode: whether the SDK's Redis store sees LaunchDarkly's `$inited` marker.
        "storeInitialized": None if store is None else bool(store.initialized),
        "dataSourceStatus": {
            "state": data_source.state.value,
            "error": None
            if error is None
            else {
                "kind": error.kind.value,
                "statusCode": error.status_code,
                "message": error.message,
            },
        },
    }


def wait_for_start(client, mode, timeout):
    """Waits until the data source is valid or has reported an error (a 401, say)."""
    if mode == "daemon-redis":
        return
    settled = threading.Event()

    def on_status(data_source):
        if data_source.state == DataSourceState.VALID or data_source.error is not None:
            settled.set()

    provider = client.data_source_status_provider
    provider.add_listener(on_status)
    on_status(provider.status)
    settled.wait(timeout)
    provider.remove_listener(on_status)


def evaluate(client, evaluations):
    results = []
    for evaluation in evaluations:
        context = Context.from_dict(evaluation["context"])
        detail = client.variation_detail(evaluation["flag"], context, evaluation.get("default"))
        results.append(
            {
                "value": detail.value,
                "variationIndex": detail.variation_index,
                "reason": detail.reason,
            }
        )
    return results


def main():
    arguments = parse_arguments()
    sdk_logger = logging.getLogger("ldclient")
    sdk_logger.setLevel(logging.INFO)
    sdk_logger.addHandler(JsonLinesHandler())
    sdk_logger.propagate = False

    config, store = make_config(arguments)
    # start_wait=0: wait_for_start returns as soon as the SDK reports an error, where the
    # SDK's own wait would sit out the whole timeout.
    client = LDClient(config, start_wait=0)
    wait_for_start(client, arguments.mode, arguments.init_timeout)
    emit({"event": "started", **status(client, store)})

    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            command = json.loads(line)
            name = command.get("command")
            if name == "evaluate":
                emit({"event": "evaluations", "results": evaluate(client, command["evaluations"])})
            elif name == "track":
                context = Context.from_dict(command["context"])
                client.track(command["event"], context, metric_value=command.get("metricValue"))
                emit({"event": "tracked"})
            elif name == "flush":
                client.flush()
                emit({"event": "flushed"})
            elif name == "status":
                emit({"event": "status", **status(client, store)})
            elif name == "quit":
                break
            else:
                emit({"event": "error", "message": "unknown command %r" % name})
        except Exception as error:  # noqa: BLE001 - reported to the test, which fails on it
            emit({"event": "error", "message": "%s: %s" % (type(error).__name__, error)})
    client.close()
    emit({"event": "closed"})


if __name__ == "__main__":
    main()
