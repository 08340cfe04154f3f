//! Generated messages, clients and servers for every package under `proto/`,
//! and the encoded descriptor set that gRPC reflection serves.

#![allow(clippy::all, clippy::too_many_lines, missing_docs)]

/// Encoded `FileDescriptorSet` of every proto in the suite.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/ce_descriptor.bin"));

pub mod google {
    pub mod r#type {
        tonic::include_proto!("google.r#type");
    }
}

pub mod ce {
    pub mod audit {
        pub mod v1 {
            tonic::include_proto!("ce.audit.v1");
        }
    }
    pub mod common {
        pub mod v1 {
            tonic::include_proto!("ce.common.v1");
        }
    }
    pub mod registry {
        pub mod v1 {
            tonic::include_proto!("ce.registry.v1");
        }
    }
    pub mod crediting {
        pub mod v1 {
            tonic::include_proto!("ce.crediting.v1");
        }
    }
    pub mod supervision {
        pub mod v1 {
            tonic::include_proto!("ce.supervision.v1");
        }
    }
    pub mod quality {
        pub mod v1 {
            tonic::include_proto!("ce.quality.v1");
        }
    }
}

pub use ce::audit::v1 as audit;
pub use ce::common::v1 as common;
pub use ce::crediting::v1 as crediting;
pub use ce::quality::v1 as quality;
pub use ce::registry::v1 as registry;
pub use ce::supervision::v1 as supervision;

pub mod reference;
