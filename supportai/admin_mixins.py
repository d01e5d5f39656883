"""Admin mixin that confines staff to the rows of the tenants they belong to.

Superusers see everything. Other staff see rows of their tenants; owners and admins may change
them, agents and analysts may only view. Foreign-key choices (the tenant itself and any
tenant-scoped related model) are narrowed the same way, and saving a row into a tenant the user
does not manage is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.utils import flatten, unquote
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy

from supportai.models import MANAGER_ROLES, Tenant, TenantScopedModel
from supportai.selectors import tenant_ids_for_user

# Where a request keeps the tenant ids it read for the user (visible, managed): Django asks for a
# permission once per object on some pages (a delete confirmation, once per row it lists).
TENANT_IDS_READ = "_admin_tenant_ids"


def forget_tenant_ids(request: HttpRequest) -> None:
    """Drop the tenant ids the request read: a membership it changed makes them stale."""
    request.__dict__.pop(TENANT_IDS_READ, None)


class TenantScopedAdminMixin:
    """Mix into a ``ModelAdmin`` of a ``TenantScopedModel``."""

    tenant_field = "tenant"
    # A URL typed without a scheme is read as https (Django 6's default, said now rather than warned of).
    formfield_overrides: ClassVar[Mapping[type[models.Field[Any, Any]], Mapping[str, Any]]] = {
        models.URLField: {"assume_scheme": "https"}
    }

    def _visible_tenant_ids(self, request: HttpRequest) -> frozenset[int]:
        return self._tenant_ids(request, managed=False)

    def _managed_tenant_ids(self, request: HttpRequest) -> frozenset[int]:
        return self._tenant_ids(request, managed=True)

    @staticmethod
    def _tenant_ids(request: HttpRequest, *, managed: bool) -> frozenset[int]:
        """The user's tenants (those they manage, or all they belong to), read once per request."""
        read: dict[bool, frozenset[int]] = request.__dict__.setdefault(TENANT_IDS_READ, {})
        if managed not in read:
            roles = MANAGER_ROLES if managed else None
            read[managed] = frozenset(tenant_ids_for_user(user=request.user, roles=roles))
        return read[managed]

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


class TenantScopedReadOnlyInline(admin.TabularInline):
    """Inline of rows only services write (audit trails, messages, deliveries), listed in ``fields``.

    Whoever may view the parent row sees them, by the parent admin's own tenant check (tenant
    staff hold no Django model permissions, so the default check would hide them); nobody adds,
    changes or deletes them here.
    """

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None) -> list[str]:
        return flatten(self.fields or ())

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self.admin_site.get_model_admin(self.parent_model).has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


class GuardedDeleteModelAdmin(admin.ModelAdmin):
    """Base of a ``ModelAdmin`` whose deletions a service may refuse.

    The delete page and the bulk "delete selected" action ask ``deletion_refusal`` first (the bulk
    action about all the selected rows at once); a refusal is shown as an error and nothing is
    deleted, instead of the service's exception reaching the user as a 403 page.
    """

    actions: Any = ["delete_selected"]

    def deletion_refusal(self, request: HttpRequest, queryset: QuerySet[Any]) -> str | None:
        """Why deleting ``queryset`` (all at once) is refused, or None to go ahead. Each subclass
        answers with its service's rule (memberships, users); the base has none to apply."""
        raise NotImplementedError(f"{type(self).__name__} must define deletion_refusal")

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None) -> Any:
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.has_delete_permission(request, obj):
            refusal = self.deletion_refusal(request, type(obj)._default_manager.filter(pk=obj.pk))
            if refusal is not None:
                self.message_user(request, refusal, messages.ERROR)
                opts = obj._meta
                return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
        return super().delete_view(request, object_id, extra_context)

    @admin.action(description=gettext_lazy("Delete selected %(verbose_name_plural)s"), permissions=["delete"])
    def delete_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        """Django's bulk delete, refused as a whole (with the reason) when the rows may not go."""
        refusal = self.deletion_refusal(request, queryset)
        if refusal is not None:
            self.message_user(request, refusal, messages.ERROR)
            return None
        with transaction.atomic():
            return django_delete_selected(self, request, queryset)
