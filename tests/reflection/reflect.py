"""A gRPC client nobody here wrote, driven only by server reflection.

Python's grpcio-reflection asks each service over
`grpc.reflection.v1alpha` (the version grpcurl 1.8 and most tools still
use) for its services and their descriptors, builds the request and
response types from what it is told, and calls one RPC with a bearer token.
Nothing from the suite's protos is compiled in.

    python reflect.py TOKEN HOST:PORT SERVICE METHOD JSON [HOST:PORT ...]

For each target it prints one JSON line: the services listed, the
method's input and output types as described, and the response.
"""

import json
import sys

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)


def probe(token, target, service, method, request_json):
    channel = grpc.insecure_channel(target)
    database = ProtoReflectionDescriptorDatabase(channel)
    services = sorted(database.get_services())
    pool = descriptor_pool.DescriptorPool(database)
    described = pool.FindServiceByName(service)
    m = described.FindMethodByName(method)
    request_type = message_factory.GetMessageClass(m.input_type)
    response_type = message_factory.GetMessageClass(m.output_type)
    call = channel.unary_unary(
        f"/{described.full_name}/{m.name}",
        request_serializer=lambda r: r.SerializeToString(),
        response_deserializer=response_type.FromString,
    )
    request = json_format.Parse(request_json, request_type())
    response = call(request, metadata=[("authorization", f"Bearer {token}")], timeout=30)
    channel.close()
    return {
        "target": target,
        "services": services,
        "method": m.full_name,
        "input": m.input_type.full_name,
        "output": m.output_type.full_name,
        "fields": [f.name for f in m.output_type.fields],
        "response": json_format.MessageToDict(response),
    }


def main(argv):
    token, rest = argv[1], argv[2:]
    if not rest or len(rest) % 4:
        sys.exit(__doc__)
    for i in range(0, len(rest), 4):
        print(json.dumps(probe(token, *rest[i : i + 4])), flush=True)


if __name__ == "__main__":
    main(sys.argv)
