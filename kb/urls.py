"""Every public URL. The article, section, check and tree-node URLs are permanent."""

from django.contrib import admin
from django.urls import include, path

from kb import views

app_name = "kb"

kb_patterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("articles/", views.article_list, name="article_list"),
    path("articles/<str:slug>/", views.article_detail, name="article_detail"),
    path("lookup/", views.lookup, name="lookup"),
    path("api/search/", views.api_search, name="api_search"),
]

urlpatterns = [
    path("", include((kb_patterns, "kb"))),
    path("", include("troubleshooter.urls")),
    path("admin/", admin.site.urls),
    # The language switch posts to Django's set_language, which remembers the choice in a cookie.
    path("i18n/", include("django.conf.urls.i18n")),
    # Browsers ask for /favicon.ico on pages that do not name an icon (the admin's).
    path("favicon.ico", views.favicon),
]

handler404 = "kb.views.not_found"
handler400 = "kb.views.bad_request"
handler500 = "kb.views.server_error"
