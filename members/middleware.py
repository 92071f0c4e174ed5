from django.utils import translation


class UserLanguageMiddleware:
    """Activate the signed-in user's language unless the session chose another one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        chosen = request.COOKIES.get("django_language")
        if user is not None and user.is_authenticated and not chosen and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)
