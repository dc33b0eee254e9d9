use thiserror::Error;

/// Errors from building simulations.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SimError {
    /// The URDF text could not be parsed.
    #[error("URDF `{name}`: {message}")]
    Urdf {
        /// Robot file or name.
        name: String,
        /// Parser message.
        message: String,
    },
    /// The URDF parsed but does not describe the kind of arm expected.
    #[error("URDF `{name}`: {message}")]
    Model {
        /// Robot file or name.
        name: String,
        /// What is missing or wrong.
        message: String,
    },
    /// A mesh the URDF names could not be found or read.
    #[error("URDF `{name}`: link `{link}`: mesh `{mesh}`: {message}")]
    Mesh {
        /// Robot file or name.
        name: String,
        /// The link whose collision element names the mesh.
        link: String,
        /// The mesh file name as the URDF writes it.
        mesh: String,
        /// What went wrong.
        message: String,
    },
}
