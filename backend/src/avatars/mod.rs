//! Profile pictures. An upload is turned into two small pictures ([`picture`]) that
//! live in the database beside the account, so every instance serves them with no
//! shared disk; the account carries their content hash, which names their URL.

pub mod picture;

use std::sync::Arc;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel, QuerySelect, Set,
};
use tokio::sync::Semaphore;

pub use self::picture::{PictureError, Pictures, Source};
use crate::clock::now;
use crate::db::{self, entity::avatar, entity::user};

/// Why a picture could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum AvatarError {
    #[error("no such account")]
    NotFound,
    #[error(transparent)]
    Picture(#[from] PictureError),
    #[error(transparent)]
    Database(#[from] DbErr),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl db::DbFailure for AvatarError {
    fn db_err(&self) -> Option<&DbErr> {
        match self {
            Self::Database(err) => Some(err),
            _ => None,
        }
    }
}

/// The two sizes served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// 64 px, for lists and the header.
    Small,
    /// 256 px, for the account page.
    Large,
}

impl Size {
    /// The size with this many pixels a side, if it is one of the two.
    pub fn from_pixels(pixels: u32) -> Option<Self> {
        match pixels {
            picture::SMALL => Some(Self::Small),
            picture::LARGE => Some(Self::Large),
            _ => None,
        }
    }

    pub fn pixels(self) -> u32 {
        match self {
            Self::Small => picture::SMALL,
            Self::Large => picture::LARGE,
        }
    }
}

/// Turns uploads into pictures, a bounded number at once: each decode may take
/// [`picture::MAX_DECODE_BYTES`] of memory, and the work runs on blocking threads,
/// never on the I/O workers.
#[derive(Clone)]
pub struct Processor {
    permits: Arc<Semaphore>,
}

impl Processor {
    pub fn new(max_concurrent: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
        }
    }

    pub async fn process<B>(&self, upload: B) -> Result<Pictures, AvatarError>
    where
        B: AsRef<[u8]> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| anyhow::anyhow!("the picture permits are closed"))?;
        let pictures = tokio::task::spawn_blocking(move || picture::process(upload.as_ref()))
            .await
            .map_err(|err| anyhow::anyhow!("picture task failed: {err}"))??;
        Ok(pictures)
    }
}

/// Gives account `id` these pictures (replacing any it had) and returns the account
/// as it is now.
pub async fn replace(
    db: &DatabaseConnection,
    id: i32,
    pictures: &Pictures,
) -> Result<user::Model, AvatarError> {
    db::retry_conflicts(|| replace_once(db, id, pictures)).await
}

async fn replace_once(
    db: &DatabaseConnection,
    id: i32,
    pictures: &Pictures,
) -> Result<user::Model, AvatarError> {
    let txn = db::begin_write(db).await?;
    let account = user::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AvatarError::NotFound)?;
    let now = now();
    let mut account = account.into_active_model();
    account.avatar_version = Set(Some(pictures.version.clone()));
    account.updated_at = Set(now);
    let account = account.update(&txn).await?;
    let row = avatar::ActiveModel {
        user_id: Set(id),
        version: Set(pictures.version.clone()),
        content_type: Set(picture::CONTENT_TYPE.to_owned()),
        small: Set(pictures.small.clone()),
        large: Set(pictures.large.clone()),
        updated_at: Set(now),
    };
    avatar::Entity::insert(row)
        .on_conflict(
            OnConflict::column(avatar::Column::UserId)
                .update_columns([
                    avatar::Column::Version,
                    avatar::Column::ContentType,
                    avatar::Column::Small,
                    avatar::Column::Large,
                    avatar::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(account)
}

/// Removes account `id`'s pictures. Returns the account as it is now and whether it
/// had any.
pub async fn remove(db: &DatabaseConnection, id: i32) -> Result<(user::Model, bool), AvatarError> {
    db::retry_conflicts(|| remove_once(db, id)).await
}

async fn remove_once(db: &DatabaseConnection, id: i32) -> Result<(user::Model, bool), AvatarError> {
    let txn = db::begin_write(db).await?;
    let account = user::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AvatarError::NotFound)?;
    if account.avatar_version.is_none() {
        txn.commit().await?;
        return Ok((account, false));
    }
    avatar::Entity::delete_by_id(id).exec(&txn).await?;
    let mut account = account.into_active_model();
    account.avatar_version = Set(None);
    account.updated_at = Set(now());
    let account = account.update(&txn).await?;
    txn.commit().await?;
    Ok((account, true))
}

/// One stored picture.
pub struct Stored {
    pub version: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Account `id`'s picture at `size`, reading only that size's bytes.
pub async fn find(db: &DatabaseConnection, id: i32, size: Size) -> Result<Option<Stored>, DbErr> {
    let bytes = match size {
        Size::Small => avatar::Column::Small,
        Size::Large => avatar::Column::Large,
    };
    let row: Option<(String, String, Vec<u8>)> = avatar::Entity::find_by_id(id)
        .select_only()
        .column(avatar::Column::Version)
        .column(avatar::Column::ContentType)
        .column(bytes)
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.map(|(version, content_type, bytes)| Stored {
        version,
        content_type,
        bytes,
    }))
}

/// Where the API serves account `id`'s picture of this version (the large size; add
/// `&size=64` for the small one). The URL changes with the picture, so it may be
/// cached for good.
pub fn url(id: i32, version: &str) -> String {
    format!("/api/v1/users/{id}/avatar?v={version}")
}
