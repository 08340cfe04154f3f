//! Calling any unary RPC with JSON, by reflection over the suite's own
//! descriptor set (no server reflection round trip needed).

use std::io::Read;

use bytes::{Buf, BufMut};
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, MethodDescriptor};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

use crate::client::{self, Conn, Service};

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

pub async fn run(
    conn: &Conn,
    method: &str,
    request: &str,
    addr: Option<&str>,
    get: Option<&str>,
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

    let service = Service::of_grpc(m.parent_service().full_name());
    let channel = match addr {
        Some(a) => client::connect(a, service.name(), conn.tls.as_ref()).await?,
        None => conn.channel(service).await?,
    };
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| format!("cannot reach the {} service: {e}", service.name()))?;
    let req = conn.request(message)?;
    let path: http::uri::PathAndQuery = format!("/{}/{}", m.parent_service().full_name(), m.name())
        .parse()
        .map_err(|e| format!("{e}"))?;
    let response = grpc
        .unary(req, path, DynamicCodec(m.output()))
        .await
        .map_err(|s| client::describe(&s))?;
    let value = serde_json::to_value(response.into_inner()).map_err(|e| e.to_string())?;
    match get {
        None => println!(
            "{}",
            serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?
        ),
        Some(field) => match value.get(field) {
            Some(serde_json::Value::String(s)) => println!("{s}"),
            Some(v) => println!("{v}"),
            None => {
                return Err(format!(
                    "--get {field}: the answer has no such field (fields left empty are not sent)"
                ));
            }
        },
    }
    Ok(())
}
