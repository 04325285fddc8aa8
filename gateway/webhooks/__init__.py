"""Webhook delivery core for GRC platforms (Standard Webhooks).

Pure, I/O-light building blocks; storage and workers are wired on top of them:

- :mod:`gateway.webhooks.signing`  -- ``whsec_`` secrets and ``webhook-*`` headers;
- :mod:`gateway.webhooks.ssrf`     -- resolve-once target validation and pinned POSTs;
- :mod:`gateway.webhooks.schedule` -- retry schedule, ``Retry-After``, response classes;
- :mod:`gateway.webhooks.filters`  -- subscription event-type filters;
- :mod:`gateway.webhooks.secretbox` -- secrets encrypted at rest, key rotation;
- :mod:`gateway.webhooks.retention` -- pruning of the delivery log (a scheduler timer job).
"""
