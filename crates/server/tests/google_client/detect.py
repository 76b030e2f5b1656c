"""Google's own Python Dialogflow client (google-cloud-dialogflow, REST transport) against a
Switchboard server: `detect.py BASE_URL SESSION_ID`. Runs the turns the server's `api` test
expects and prints each response as one JSON line, in proto3 JSON as the client parsed it."""

import json
import sys

from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import dialogflow_v2 as dialogflow
from google.protobuf import json_format, struct_pb2


def main(base_url: str, session_id: str) -> None:
    client = dialogflow.SessionsClient(
        credentials=AnonymousCredentials(),
        transport="rest",
        client_options=ClientOptions(api_endpoint=base_url),
    )
    session = client.session_path("test-project", session_id)

    def show(response):
        print(json_format.MessageToJson(response._pb, indent=None), flush=True)

    # An event.
    show(
        client.detect_intent(
            request={
                "session": session,
                "query_input": {"event": {"name": "WELCOME", "language_code": "en"}},
            }
        )
    )
    # Text with parameters; the intent sets an output context.
    payload = struct_pb2.Struct()
    payload.update({"channel": "python"})
    show(
        client.detect_intent(
            request={
                "session": session,
                "query_input": {
                    "text": {
                        "text": "Can I set up an appointment to service my bike tomorrow at 2pm",
                        "language_code": "en",
                    }
                },
                "query_params": {"time_zone": "America/Los_Angeles", "payload": payload},
            }
        )
    )
    # The follow-up intent, reached through the context the last turn set.
    show(
        client.detect_intent(
            request={
                "session": session,
                "query_input": {"text": {"text": "I need a repair", "language_code": "en"}},
            }
        )
    )
    # A context given by the client itself, on a fresh session.
    ctx_params = struct_pb2.Struct()
    ctx_params.update({"date": "2030-01-02T12:00:00-08:00", "time": "2030-01-02T15:00:00-08:00"})
    other = client.session_path("test-project", session_id + "-ctx")
    show(
        client.detect_intent(
            request={
                "session": other,
                "query_params": {
                    "contexts": [
                        {
                            "name": f"{other}/contexts/makeappointment-followup",
                            "lifespan_count": 2,
                            "parameters": ctx_params,
                        }
                    ]
                },
                "query_input": {"text": {"text": "a repair", "language_code": "en"}},
            }
        )
    )
    # A request the server refuses: the client raises the Google-style error it reads.
    try:
        client.detect_intent(
            request={"session": session, "query_input": {"text": {"text": " ", "language_code": "en"}}}
        )
        print(json.dumps({"error": None}), flush=True)
    except exceptions.GoogleAPICallError as e:
        # The google.rpc status name from the error body the client received.
        grpc = e.response.json()["error"]["status"] if e.response is not None else None
        print(
            json.dumps({"error": type(e).__name__, "code": e.code, "grpc": grpc, "message": e.message}),
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
