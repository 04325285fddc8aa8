"""Live GraphQL subscriptions (graphql-transport-ws) fed by the NATS event stream.

* :mod:`gateway.subscriptions.topics` — what can be subscribed to: the event types behind each
  subscription field and the roles that may see them.
* :mod:`gateway.subscriptions.service` — the process-wide fan-out: one ordered, ephemeral
  JetStream push consumer whose events are copied into each subscriber's bounded queue, and the
  watch that ends connections whose API key is revoked.
* :mod:`gateway.subscriptions.schema` — the ``Subscription`` root and its payload types.
* :mod:`gateway.subscriptions.api` — the WebSocket endpoint: authentication on
  ``connection_init``, the credential's expiry and revocation, subscriptions only.

It stores nothing, so it has no repository (see the import-linter contracts).
"""
