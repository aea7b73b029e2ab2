//! The gRPC API's errors: a small `ErrorCode` mapped once to a `tonic::Code`; internal
//! causes are logged once, when they become a response, and never sent.

/// What went wrong, coarsely; decides the gRPC code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidArgument,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn grpc_code(self) -> tonic::Code {
        match self {
            ErrorCode::InvalidArgument => tonic::Code::InvalidArgument,
            ErrorCode::Unavailable => tonic::Code::Unavailable,
            ErrorCode::Internal => tonic::Code::Internal,
        }
    }
}

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    source: Option<anyhow::Error>,
}

impl ApiError {
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        ApiError {
            code: ErrorCode::InvalidArgument,
            message: message.into(),
            source: None,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        let code = match &error {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                ErrorCode::Unavailable
            }
            _ => ErrorCode::Internal,
        };
        let message = match code {
            ErrorCode::Unavailable => "database unavailable, retry later",
            _ => "internal error",
        };
        ApiError {
            code,
            message: message.into(),
            source: Some(anyhow::Error::new(error).context("database error")),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> Self {
        match error {
            crate::store::StoreError::Database(error) => ApiError::from(error),
            corrupt @ crate::store::StoreError::Corrupt { .. } => ApiError {
                code: ErrorCode::Internal,
                message: "internal error".into(),
                source: Some(anyhow::Error::new(corrupt)),
            },
        }
    }
}

impl From<ApiError> for tonic::Status {
    fn from(error: ApiError) -> Self {
        if let Some(source) = &error.source {
            tracing::error!(error = format!("{source:#}"), "grpc call failed");
        }
        tonic::Status::new(error.code.grpc_code(), error.message)
    }
}
