"""Template context every page shares: the unread count of the top bar's inbox badge."""

from django.utils.functional import SimpleLazyObject

from notifications.selectors import notifications_unread_count


def unread_count(request):
    """Offer ``unread_notifications`` to signed-in users' pages.

    The count is lazy: only a page that shows the badge runs its one COUNT query; htmx
    partials and anonymous pages run none.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: notifications_unread_count(user=user))}
