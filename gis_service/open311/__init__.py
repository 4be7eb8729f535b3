"""Open311 GeoReport v2 at `/open311/v2/`, in JSON and XML, on top of the incident service.

Services are the categories of the responsibility list; a service request is an incident. A
POST is an ordinary intake (source `open311`, actor `open311`, no token: the contract leaves
the Open311 intake open), so it is located, routed and recorded like any other report. Reads
are public, as Open311 intends, and show only public fields (see `mapping`). Errors leave in
Open311's own shape (`[{"code", "description"}]` or `<errors><error>…`), not problem+json.

    GET  /open311/v2/services.{json|xml}                     one service per category
    GET  /open311/v2/services/{service_code}.{json|xml}      its definition (no attributes)
    POST /open311/v2/requests.{json|xml}                     report (form-encoded or JSON)
    GET  /open311/v2/requests.{json|xml}                     search (≤ 1000, ≤ 90 days)
    GET  /open311/v2/requests/{service_request_id}.{json|xml}
"""
