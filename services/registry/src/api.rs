//! The gRPC face of the registry: each handler reads its call, hands the
//! message to the domain module, and maps the answer. Refused mutations are
//! audited here; applied ones are audited in their own transaction.

use ce_db::Db;
use ce_proto::registry::registry_service_server::RegistryService;
use ce_proto::registry::*;
use ce_server::call::{reply, reply_to_mutation};
use ce_server::deployment::Deployment;
use ce_server::{ApiError, Call};
use tonic::{Request, Response, Status};

use crate::{activities, employers, engineers, institutions, reference};

/// The registry service over one database.
#[derive(Clone)]
pub struct RegistryApi {
    db: Db,
    clock: crate::Clock,
    /// Which province's writes this registry accepts (`deployment.rs` in
    /// ce-server).
    deployment: Deployment,
}

impl std::fmt::Debug for RegistryApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryApi").field("db", &self.db).finish()
    }
}

impl RegistryApi {
    pub fn new(db: Db) -> RegistryApi {
        RegistryApi::with_clock(db, crate::system_clock())
    }

    /// A registry whose engineers are registered and changed at `clock`'s time.
    pub fn with_clock(db: Db, clock: crate::Clock) -> RegistryApi {
        RegistryApi {
            db,
            clock,
            deployment: Deployment::Single,
        }
    }

    /// This registry, as part of `deployment`.
    pub fn with_deployment(self, deployment: Deployment) -> RegistryApi {
        RegistryApi { deployment, ..self }
    }

    /// Today by the registry's clock, in China Standard Time.
    fn today(&self) -> time::Date {
        crate::today((self.clock)())
    }
}

fn required<T>(value: Option<T>, field: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::invalid(field, "is required"))
}

/// The resource a refused mutation was about: its name, or the collection.
fn target<'a>(name: &'a str, collection: &'a str) -> &'a str {
    if name.is_empty() { collection } else { name }
}

#[tonic::async_trait]
impl RegistryService for RegistryApi {
    async fn get_engineer(
        &self,
        req: Request<GetEngineerRequest>,
    ) -> Result<Response<Engineer>, Status> {
        let call = Call::from_request(&req)?;
        reply(engineers::get(&self.db, &call, &req.into_inner().name).await)
    }

    async fn list_engineers(
        &self,
        req: Request<ListEngineersRequest>,
    ) -> Result<Response<ListEngineersResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(engineers::list(&self.db, &call, req.into_inner()).await)
    }

    async fn batch_get_engineers(
        &self,
        req: Request<BatchGetEngineersRequest>,
    ) -> Result<Response<BatchGetEngineersResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(
            engineers::batch_get(&self.db, &call, req.into_inner().names)
                .await
                .map(|(engineers, missing)| BatchGetEngineersResponse { engineers, missing }),
        )
    }

    async fn create_engineer(
        &self,
        req: Request<CreateEngineerRequest>,
    ) -> Result<Response<Engineer>, Status> {
        let call = Call::from_request(&req)?;
        let result = match required(req.into_inner().engineer, "engineer") {
            Ok(e) => engineers::create(&self.db, &self.deployment, &call, e, (self.clock)()).await,
            Err(e) => Err(e),
        };
        reply_to_mutation(&self.db, &call, "engineers", result).await
    }

    async fn update_engineer(
        &self,
        req: Request<UpdateEngineerRequest>,
    ) -> Result<Response<Engineer>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let name = r
            .engineer
            .as_ref()
            .map(|e| e.name.clone())
            .unwrap_or_default();
        let result = match required(r.engineer, "engineer") {
            Ok(e) => {
                engineers::update(
                    &self.db,
                    &self.deployment,
                    &call,
                    e,
                    r.update_mask,
                    (self.clock)(),
                )
                .await
            }
            Err(e) => Err(e),
        };
        reply_to_mutation(&self.db, &call, target(&name, "engineers"), result).await
    }

    async fn list_engineer_changes(
        &self,
        req: Request<ListEngineerChangesRequest>,
    ) -> Result<Response<ListEngineerChangesResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(engineers::changes(&self.db, &call, req.into_inner()).await)
    }

    async fn get_employer(
        &self,
        req: Request<GetEmployerRequest>,
    ) -> Result<Response<Employer>, Status> {
        let call = Call::from_request(&req)?;
        reply(employers::get(&self.db, &call, &req.into_inner().name).await)
    }

    async fn list_employers(
        &self,
        req: Request<ListEmployersRequest>,
    ) -> Result<Response<ListEmployersResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(employers::list(&self.db, &call, req.into_inner()).await)
    }

    async fn create_employer(
        &self,
        req: Request<CreateEmployerRequest>,
    ) -> Result<Response<Employer>, Status> {
        let call = Call::from_request(&req)?;
        let result = match required(req.into_inner().employer, "employer") {
            Ok(e) => employers::create(&self.db, &self.deployment, &call, e, (self.clock)()).await,
            Err(e) => Err(e),
        };
        reply_to_mutation(&self.db, &call, "employers", result).await
    }

    async fn update_employer(
        &self,
        req: Request<UpdateEmployerRequest>,
    ) -> Result<Response<Employer>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let name = r
            .employer
            .as_ref()
            .map(|e| e.name.clone())
            .unwrap_or_default();
        let result = match required(r.employer, "employer") {
            Ok(e) => {
                employers::update(
                    &self.db,
                    &self.deployment,
                    &call,
                    e,
                    r.update_mask,
                    (self.clock)(),
                )
                .await
            }
            Err(e) => Err(e),
        };
        reply_to_mutation(&self.db, &call, target(&name, "employers"), result).await
    }

    async fn get_institution(
        &self,
        req: Request<GetInstitutionRequest>,
    ) -> Result<Response<Institution>, Status> {
        let call = Call::from_request(&req)?;
        reply(institutions::get(&self.db, &call, &req.into_inner().name, self.today()).await)
    }

    async fn list_institutions(
        &self,
        req: Request<ListInstitutionsRequest>,
    ) -> Result<Response<ListInstitutionsResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(institutions::list(&self.db, &call, req.into_inner(), self.today()).await)
    }

    async fn create_institution(
        &self,
        req: Request<CreateInstitutionRequest>,
    ) -> Result<Response<Institution>, Status> {
        let call = Call::from_request(&req)?;
        let result = match required(req.into_inner().institution, "institution") {
            Ok(i) => {
                institutions::create(&self.db, &self.deployment, &call, i, (self.clock)()).await
            }
            Err(e) => Err(e),
        };
        reply_to_mutation(&self.db, &call, "institutions", result).await
    }

    async fn update_institution(
        &self,
        req: Request<UpdateInstitutionRequest>,
    ) -> Result<Response<Institution>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let name = r
            .institution
            .as_ref()
            .map(|i| i.name.clone())
            .unwrap_or_default();
        let result = match required(r.institution, "institution") {
            Ok(i) => {
                institutions::update(
                    &self.db,
                    &self.deployment,
                    &call,
                    i,
                    r.update_mask,
                    (self.clock)(),
                )
                .await
            }
            Err(e) => Err(e),
        };
        reply_to_mutation(&self.db, &call, target(&name, "institutions"), result).await
    }

    async fn change_institution_standing(
        &self,
        req: Request<ChangeInstitutionStandingRequest>,
    ) -> Result<Response<Institution>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let name = r.name.clone();
        let result =
            institutions::change_standing(&self.db, &self.deployment, &call, r, (self.clock)())
                .await;
        reply_to_mutation(&self.db, &call, target(&name, "institutions"), result).await
    }

    async fn record_quality_grade(
        &self,
        req: Request<ce_proto::registry::RecordQualityGradeRequest>,
    ) -> Result<Response<Institution>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let name = r.name.clone();
        let result =
            institutions::record_quality(&self.db, &self.deployment, &call, r, (self.clock)())
                .await;
        reply_to_mutation(&self.db, &call, target(&name, "institutions"), result).await
    }

    async fn list_standing_changes(
        &self,
        req: Request<ListStandingChangesRequest>,
    ) -> Result<Response<ListStandingChangesResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(institutions::list_changes(&self.db, &call, req.into_inner()).await)
    }

    async fn get_activity(
        &self,
        req: Request<GetActivityRequest>,
    ) -> Result<Response<Activity>, Status> {
        let call = Call::from_request(&req)?;
        reply(activities::get(&self.db, &call, &req.into_inner().name).await)
    }

    async fn batch_get_activities(
        &self,
        req: Request<BatchGetActivitiesRequest>,
    ) -> Result<Response<BatchGetActivitiesResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(
            activities::batch_get(&self.db, &call, req.into_inner().names)
                .await
                .map(|(activities, missing)| BatchGetActivitiesResponse {
                    activities,
                    missing,
                }),
        )
    }

    async fn list_activities(
        &self,
        req: Request<ListActivitiesRequest>,
    ) -> Result<Response<ListActivitiesResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(activities::list(&self.db, &call, req.into_inner()).await)
    }

    async fn create_activity(
        &self,
        req: Request<CreateActivityRequest>,
    ) -> Result<Response<Activity>, Status> {
        let call = Call::from_request(&req)?;
        let result = match required(req.into_inner().activity, "activity") {
            Ok(a) => activities::create(&self.db, &self.deployment, &call, a, (self.clock)()).await,
            Err(e) => Err(e),
        };
        reply_to_mutation(&self.db, &call, "activities", result).await
    }

    async fn update_activity(
        &self,
        req: Request<UpdateActivityRequest>,
    ) -> Result<Response<Activity>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let name = r
            .activity
            .as_ref()
            .map(|a| a.name.clone())
            .unwrap_or_default();
        let result = match required(r.activity, "activity") {
            Ok(a) => {
                activities::update(
                    &self.db,
                    &self.deployment,
                    &call,
                    a,
                    r.update_mask,
                    (self.clock)(),
                )
                .await
            }
            Err(e) => Err(e),
        };
        reply_to_mutation(&self.db, &call, target(&name, "activities"), result).await
    }

    async fn list_fields(
        &self,
        req: Request<ListFieldsRequest>,
    ) -> Result<Response<ListFieldsResponse>, Status> {
        Call::from_request(&req)?;
        Ok(Response::new(reference::fields()))
    }

    async fn list_provinces(
        &self,
        req: Request<ListProvincesRequest>,
    ) -> Result<Response<ListProvincesResponse>, Status> {
        Call::from_request(&req)?;
        Ok(Response::new(reference::provinces()))
    }
}
