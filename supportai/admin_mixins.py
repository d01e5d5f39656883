"""Admin mixin that confines staff to the rows of the tenants they belong to.

Superusers see everything. Other staff see rows of their tenants; owners and admins may change
them, agents and analysts may only view. Foreign-key choices (the tenant itself and any
tenant-scoped related model) are narrowed the same way, and saving a row into a tenant the user
does not manage is refused.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest

from supportai.models import MANAGER_ROLES, Tenant, TenantScopedModel
from supportai.selectors import tenant_ids_for_user


class TenantScopedAdminMixin:
    """Mix into a ``ModelAdmin`` of a ``TenantScopedModel``."""

    tenant_field = "tenant"

    def _visible_tenant_ids(self, request: HttpRequest) -> set[int]:
        return tenant_ids_for_user(user=request.user)

    def _managed_tenant_ids(self, request: HttpRequest) -> set[int]:
        return tenant_ids_for_user(user=request.user, roles=MANAGER_ROLES)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset: QuerySet[Any] = super().get_queryset(request)  # type: ignore[misc]
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.tenant_field}__in": self._visible_tenant_ids(request)})

    def _object_tenant_id(self, obj: models.Model) -> int | None:
        tenant_id: int | None = getattr(obj, f"{self.tenant_field}_id", None)
        return tenant_id

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser or self._visible_tenant_ids(request))

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        if request.user.is_superuser:
            return True
        visible = self._visible_tenant_ids(request)
        return bool(visible) if obj is None else self._object_tenant_id(obj) in visible

    def _can_manage(self, request: HttpRequest, obj: models.Model | None) -> bool:
        if request.user.is_superuser:
            return True
        managed = self._managed_tenant_ids(request)
        return bool(managed) if obj is None else self._object_tenant_id(obj) in managed

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._can_manage(request, None)

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self._can_manage(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self._can_manage(request, obj)

    def formfield_for_foreignkey(self, db_field: models.ForeignKey, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
        if request.user.is_superuser or not isinstance(field, ModelChoiceField):
            return field
        managed = self._managed_tenant_ids(request)
        related = db_field.related_model
        queryset = field.queryset
        if queryset is not None and related is Tenant:
            field.queryset = queryset.filter(pk__in=managed)
        elif queryset is not None and isinstance(related, type) and issubclass(related, TenantScopedModel):
            field.queryset = queryset.filter(tenant_id__in=managed)
        return field

    def check_tenant_managed(self, request: HttpRequest, obj: Any) -> None:
        """Raise ``PermissionDenied`` unless the user manages ``obj``'s tenant (or is a superuser)."""
        if not request.user.is_superuser and self._object_tenant_id(obj) not in self._managed_tenant_ids(request):
            raise PermissionDenied("You can only save rows of tenants you manage.")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        self.check_tenant_managed(request, obj)
        super().save_model(request, obj, form, change)  # type: ignore[misc]


class TenantScopedModelAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    """Convenience base; subclasses set ``list_select_related`` (at least ``tenant``)."""
