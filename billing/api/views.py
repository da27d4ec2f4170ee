from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api.serializers import UsageSerializer
from billing.selectors import usage_summary


class UsageView(APIView):
    @extend_schema(operation_id="usage", responses={200: UsageSerializer})
    def get(self, request: Request) -> Response:
        """The plan's limits, what the user has used of each, and when each count resets."""
        return Response(UsageSerializer(usage_summary(user=request.user)).data)
