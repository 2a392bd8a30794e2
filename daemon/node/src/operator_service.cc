#include "congvan/node/operator_service.h"

#include "congvan/node/access.h"
#include "congvan/node/grpc_status.h"
#include "congvan/signer/status_macros.h"

namespace congvan::node {

grpc::Status OperatorServiceImpl::Route(grpc::ServerContext* context, const v1::RouteRequest* request,
                                        v1::RouteResponse* response) {
  return ToGrpcStatus(DoRoute(context, *request, response));
}

absl::Status OperatorServiceImpl::DoRoute(grpc::ServerContext* context, const v1::RouteRequest& request,
                                          v1::RouteResponse* response) {
  RETURN_IF_ERROR(AuthorizePerson(*context, node_, {config::Role::kOperator}).status());
  ASSIGN_OR_RETURN(signer::AgencyId destination, signer::AgencyId::Parse(request.agency()));
  if (node_.topology->FindAgency(destination) == nullptr) {
    return absl::NotFoundError(destination.str() + " is not a known agency: check its identifier");
  }
  ASSIGN_OR_RETURN(std::vector<PathHop> path, router_.Path(destination));
  for (const PathHop& hop : path) {
    v1::RouteHop* out = response->add_hops();
    out->set_agency(hop.agency);
    out->set_link(hop.link);
    ASSIGN_OR_RETURN(signer::AgencyId id, signer::AgencyId::Parse(hop.agency));
    if (const pki::Agency* agency = node_.topology->FindAgency(id)) out->set_name(agency->name);
  }
  return absl::OkStatus();
}

}  // namespace congvan::node
