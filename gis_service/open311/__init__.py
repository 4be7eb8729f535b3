"""Open311 GeoReport v2 at `/open311/v2/`, in JSON and XML, on top of the incident service.

Services are the categories of the responsibility list; a service request is an incident. A
POST is an ordinary intake (source `open311`, actor `open311`, no token: the contract leaves
the Open311 intake open), so it is located, routed and recorded like any other report. Reads
are public, as Open311 intends, and show only public fields (see `mapping`). Errors leave in
Open311's own shape (`[{"code", "description"}]` or `<errors><error>…`), not problem+json.
Every route takes `jurisdiction_id`: absent, or a town served (a current level-1 grid code,
or the configured alias `open311_jurisdiction`); any other is 404.

    GET  /open311/v2/discovery.{json|xml}                    service discovery document
    GET  /open311/v2/services.{json|xml}                     one service per category
    GET  /open311/v2/services/{service_code}.{json|xml}      its definition and attributes
    POST /open311/v2/requests.{json|xml}                     report (form-encoded or JSON,
                                                             `attribute[code]=value`); answers
                                                             service_request_id and token
    GET  /open311/v2/requests.{json|xml}                     search (≤ 1000, ≤ 90 days)
    GET  /open311/v2/requests/{service_request_id}.{json|xml}
    GET  /open311/v2/tokens/{token}.{json|xml}               the id a token stands for

Attributes are data (`attributes.json`, see `attributes`); tokens need no table (`tokens`).
"""
