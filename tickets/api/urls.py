from django.urls import path

from tickets.api import (
    actions,
    assignees,
    attachments,
    classify,
    lookup,
    people,
    projects,
    signin,
    tickets,
)

urlpatterns = [
    path("auth/token/", signin.TokenView.as_view(), name="auth-token"),
    path("auth/session/", signin.SessionView.as_view(), name="auth-session"),
    path("auth/csrf/", signin.CsrfView.as_view(), name="auth-csrf"),
    path("me/", people.MeView.as_view(), name="me"),
    path("users/", people.UserListView.as_view(), name="user-list"),
    path("users/<str:username>/", people.UserDetailView.as_view(), name="user-detail"),
    path("projects/", projects.ProjectListView.as_view(), name="project-list"),
    path("projects/<str:key>/", projects.ProjectDetailView.as_view(), name="project-detail"),
    path("projects/<str:key>/members/", projects.MemberListView.as_view(), name="member-list"),
    path(
        "projects/<str:key>/members/<str:username>/",
        projects.MemberDetailView.as_view(),
        name="member-detail",
    ),
    path(
        "projects/<str:key>/assignees/",
        assignees.AssigneeListView.as_view(),
        name="assignee-list",
    ),
    path("projects/<str:key>/columns/", projects.ColumnListView.as_view(), name="column-list"),
    path(
        "projects/<str:key>/columns/reorder/",
        projects.ColumnReorderView.as_view(),
        name="column-reorder",
    ),
    path(
        "projects/<str:key>/columns/<int:column_id>/",
        projects.ColumnDetailView.as_view(),
        name="column-detail",
    ),
    path(
        "projects/<str:key>/columns/<int:column_id>/tickets/",
        projects.ColumnTicketsView.as_view(),
        name="column-tickets",
    ),
    path("projects/<str:key>/board/", projects.BoardView.as_view(), name="board"),
    path("statuses/", projects.StatusListView.as_view(), name="status-list"),
    path("statuses/<str:key>/", projects.StatusDetailView.as_view(), name="status-detail"),
    path("tickets/", tickets.TicketListView.as_view(), name="ticket-list"),
    path("tickets/bulk/", tickets.BulkView.as_view(), name="ticket-bulk"),
    path("tickets/classify/", classify.ClassifyView.as_view(), name="ticket-classify"),
    path("tickets/by-key/<str:key>/", lookup.TicketByKeyView.as_view(), name="ticket-by-key"),
    path("tickets/<int:ticket_id>/", tickets.TicketDetailView.as_view(), name="ticket-detail"),
    path("tickets/<int:ticket_id>/move/", tickets.MoveView.as_view(), name="ticket-move"),
    path("tickets/<int:ticket_id>/assign/", tickets.AssignView.as_view(), name="ticket-assign"),
    path(
        "tickets/<int:ticket_id>/escalate/", tickets.EscalateView.as_view(), name="ticket-escalate"
    ),
    path(
        "tickets/<int:ticket_id>/acknowledge/",
        tickets.AcknowledgeView.as_view(),
        name="ticket-acknowledge",
    ),
    path("tickets/<int:ticket_id>/resolve/", actions.ResolveView.as_view(), name="ticket-resolve"),
    path("tickets/<int:ticket_id>/reopen/", actions.ReopenView.as_view(), name="ticket-reopen"),
    path(
        "tickets/<int:ticket_id>/messages/",
        tickets.MessageListView.as_view(),
        name="ticket-messages",
    ),
    path("tickets/<int:ticket_id>/watch/", tickets.WatchView.as_view(), name="ticket-watch"),
    path(
        "tickets/<int:ticket_id>/watchers/",
        tickets.WatcherListView.as_view(),
        name="ticket-watchers",
    ),
    path("tickets/<int:ticket_id>/audit/", tickets.AuditView.as_view(), name="ticket-audit"),
    path(
        "tickets/<int:ticket_id>/attachments/",
        attachments.AttachmentListView.as_view(),
        name="ticket-attachments",
    ),
    path(
        "attachments/<int:attachment_id>/download/",
        attachments.AttachmentDownloadView.as_view(),
        name="attachment-download",
    ),
    path(
        "attachments/file/<str:token>/",
        attachments.SignedAttachmentFileView.as_view(),
        name="attachment-file",
    ),
    path("stats/", tickets.StatsView.as_view(), name="stats"),
]
