//! Calling any unary RPC with JSON, by reflection over the suite's own
//! descriptor set (no server reflection round trip needed).

use std::io::Read;

use bytes::{Buf, BufMut};
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, MethodDescriptor};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;

/// The port each service listens on under `make run`.
fn default_addr(service: &str) -> &'static str {
    match service {
        s if s.starts_with("ce.crediting.") => "http://127.0.0.1:50052",
        s if s.starts_with("ce.supervision.") => "http://127.0.0.1:50053",
        s if s.starts_with("ce.quality.") => "http://127.0.0.1:50054",
        _ => "http://127.0.0.1:50051",
    }
}

/// Finds `Service/Method`, with or without the package.
fn find_method(pool: &DescriptorPool, method: &str) -> Result<MethodDescriptor, String> {
    let (service, name) = method.split_once('/').ok_or_else(|| {
        format!("{method}: write it as Service/Method, for example RegistryService/ListProvinces")
    })?;
    let candidates: Vec<MethodDescriptor> = pool
        .services()
        .filter(|s| s.full_name() == service || s.name() == service)
        .flat_map(|s| s.methods().collect::<Vec<_>>())
        .filter(|m| m.name() == name)
        .collect();
    match candidates.as_slice() {
        [one] => Ok(one.clone()),
        [] => {
            let known: Vec<String> = pool
                .services()
                .flat_map(|s| {
                    let service = s.name().to_owned();
                    s.methods()
                        .map(|m| format!("{service}/{}", m.name()))
                        .collect::<Vec<_>>()
                })
                .collect();
            Err(format!(
                "no method {method}; known methods:\n  {}",
                known.join("\n  ")
            ))
        }
        _ => Err(format!("{method} is ambiguous; give the full service name")),
    }
}

/// A codec for messages known only at run time.
#[derive(Clone)]
struct DynamicCodec(MessageDescriptor);

struct DynamicEncoder;
struct DynamicDecoder(MessageDescriptor);

impl Encoder for DynamicEncoder {
    type Item = DynamicMessage;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: DynamicMessage,
        dst: &mut EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        let mut buf = Vec::with_capacity(item.encoded_len());
        item.encode(&mut buf)
            .map_err(|e| tonic::Status::internal(e.to_string()))?;
        dst.put_slice(&buf);
        Ok(())
    }
}

impl Decoder for DynamicDecoder {
    type Item = DynamicMessage;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<DynamicMessage>, tonic::Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        DynamicMessage::decode(self.0.clone(), bytes)
            .map(Some)
            .map_err(|e| tonic::Status::internal(e.to_string()))
    }
}

impl Codec for DynamicCodec {
    type Encode = DynamicMessage;
    type Decode = DynamicMessage;
    type Encoder = DynamicEncoder;
    type Decoder = DynamicDecoder;
    fn encoder(&mut self) -> DynamicEncoder {
        DynamicEncoder
    }
    fn decoder(&mut self) -> DynamicDecoder {
        DynamicDecoder(self.0.clone())
    }
}

/// Says what went wrong in words a clerk can act on: the code, the
/// message, and each bad field.
fn describe(status: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    let mut out = match status.get_details_bad_request() {
        Some(bad) if !bad.field_violations.is_empty() => {
            let mut s = format!("{:?}: the request has bad fields:", status.code());
            for v in bad.field_violations {
                s.push_str(&format!("\n  {}: {}", v.field, v.description));
            }
            s
        }
        _ => format!("{:?}: {}", status.code(), status.message()),
    };
    if let Some(id) = status
        .metadata()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
    {
        out.push_str(&format!("\n  (request id {id})"));
    }
    out
}

pub async fn run(
    method: &str,
    request: &str,
    addr: Option<&str>,
    token: Option<&str>,
) -> Result<(), String> {
    let pool = DescriptorPool::decode(ce_proto::FILE_DESCRIPTOR_SET).map_err(|e| e.to_string())?;
    let m = find_method(&pool, method)?;
    if m.is_client_streaming() || m.is_server_streaming() {
        return Err(format!(
            "{method} streams; cectl call handles unary methods"
        ));
    }
    let text = if request == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| e.to_string())?;
        s
    } else {
        request.to_owned()
    };
    let mut de = serde_json::Deserializer::from_str(&text);
    let message = DynamicMessage::deserialize(m.input(), &mut de).map_err(|e| {
        format!(
            "the request is not a valid {} in JSON: {e}",
            m.input().full_name()
        )
    })?;

    let addr = addr.unwrap_or_else(|| default_addr(m.parent_service().full_name()));
    let channel = Channel::from_shared(addr.to_owned())
        .map_err(|e| format!("--addr {addr}: {e}"))?
        .connect()
        .await
        .map_err(|e| format!("cannot reach {addr}: {e}"))?;
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| format!("cannot reach {addr}: {e}"))?;
    let mut req = tonic::Request::new(message);
    if let Some(t) = token {
        let value = format!("Bearer {t}")
            .parse()
            .map_err(|_| "--token is not a valid header value".to_owned())?;
        req.metadata_mut().insert("authorization", value);
    }
    let path: http::uri::PathAndQuery = format!("/{}/{}", m.parent_service().full_name(), m.name())
        .parse()
        .map_err(|e| format!("{e}"))?;
    let response = grpc
        .unary(req, path, DynamicCodec(m.output()))
        .await
        .map_err(|s| describe(&s))?;
    let json = serde_json::to_string_pretty(&response.into_inner()).map_err(|e| e.to_string())?;
    println!("{json}");
    Ok(())
}
