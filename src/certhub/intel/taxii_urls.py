from django.urls import path

from certhub.intel import exchange_views, taxii

app_name = "taxii"

urlpatterns = [
    path("", taxii.discovery, name="discovery"),
    # Pages for people (not TAXII resources): the API root is "api", so these never clash.
    path("collections/", exchange_views.collections, name="collections_page"),
    path("share/<str:reference>/", exchange_views.share, name="share"),
    path("<str:api_root>/", taxii.api_root, name="api_root"),
    path("<str:api_root>/collections/", taxii.collections, name="collections"),
    path(
        "<str:api_root>/collections/<str:collection_id>/",
        taxii.collection,
        name="collection",
    ),
    path(
        "<str:api_root>/collections/<str:collection_id>/objects/",
        taxii.objects,
        name="objects",
    ),
    path(
        "<str:api_root>/collections/<str:collection_id>/manifest/",
        taxii.manifest,
        name="manifest",
    ),
    path(
        "<str:api_root>/collections/<str:collection_id>/objects/<str:object_id>/",
        taxii.object_detail,
        name="object",
    ),
    path(
        "<str:api_root>/collections/<str:collection_id>/objects/<str:object_id>/versions/",
        taxii.object_versions,
        name="versions",
    ),
    path("<str:api_root>/status/<str:status_id>/", taxii.status, name="status"),
]
