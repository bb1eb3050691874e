import os


def handler(event, context):
    # Invoked directly the event is the payload; through the function URL (/fn/hello/) it is an
    # API Gateway v2 event, with the name in the query string.
    query = event.get("queryStringParameters") or {}
    name = query.get("name") or event.get("name", "world")
    print(f"greeting {name}")
    return {"message": f"{os.environ['GREETING']}, {name}!", "request_id": context.aws_request_id}
