import os


def handler(event, context):
    name = event.get("name", "world")
    print(f"greeting {name}")
    return {"message": f"{os.environ['GREETING']}, {name}!", "request_id": context.aws_request_id}
