"""A compact copy of the part of the Bot API (10.0) that nabat uses.

Written from the public documentation at core.telegram.org/bots/api. It is used only when
`api.json` is absent, so that a clone without `../shared` still runs the tests;
`tests/e2e/test_emulator_spec.py` checks it against api.json whenever that file is there.

Notation, one field per word: `name` then `!` when required, `:` and the allowed types
joined by `|`; `[X]` is `Array of X`; `=value` is the only value a discriminator may take.
"""

from __future__ import annotations

from tests.telegram_emulator.spec import ApiSpec, FieldSpec, MethodSpec, ObjectSpec

_REPLY_MARKUP = (
    "reply_markup:InlineKeyboardMarkup|ReplyKeyboardMarkup|ReplyKeyboardRemove|ForceReply"
)
_SEND_TAIL = (
    "disable_notification:Boolean protect_content:Boolean allow_paid_broadcast:Boolean "
    "message_effect_id:String suggested_post_parameters:SuggestedPostParameters "
    f"reply_parameters:ReplyParameters {_REPLY_MARKUP}"
)
_TARGET = "chat_id!:Integer|String message_thread_id:Integer direct_messages_topic_id:Integer"
_EDIT_TARGET = (
    "business_connection_id:String chat_id:Integer|String message_id:Integer "
    "inline_message_id:String"
)
_SCOPE = "scope:BotCommandScope language_code:String"

METHODS: dict[str, str] = {
    "getMe": "",
    "getUpdates": "offset:Integer limit:Integer timeout:Integer allowed_updates:[String]",
    "deleteWebhook": "drop_pending_updates:Boolean",
    "setWebhook": (
        "url!:String certificate:InputFile ip_address:String max_connections:Integer "
        "allowed_updates:[String] drop_pending_updates:Boolean secret_token:String"
    ),
    "getWebhookInfo": "",
    "close": "",
    "logOut": "",
    "sendMessage": (
        f"business_connection_id:String {_TARGET} text!:String parse_mode:String "
        "entities:[MessageEntity] link_preview_options:LinkPreviewOptions " + _SEND_TAIL
    ),
    "editMessageText": (
        f"{_EDIT_TARGET} text!:String parse_mode:String entities:[MessageEntity] "
        "link_preview_options:LinkPreviewOptions reply_markup:InlineKeyboardMarkup"
    ),
    "editMessageReplyMarkup": f"{_EDIT_TARGET} reply_markup:InlineKeyboardMarkup",
    "deleteMessage": "chat_id!:Integer|String message_id!:Integer",
    "deleteMessages": "chat_id!:Integer|String message_ids!:[Integer]",
    "answerCallbackQuery": (
        "callback_query_id!:String text:String show_alert:Boolean url:String cache_time:Integer"
    ),
    "sendLocation": (
        f"business_connection_id:String {_TARGET} latitude!:Float longitude!:Float "
        "horizontal_accuracy:Float live_period:Integer heading:Integer "
        "proximity_alert_radius:Integer " + _SEND_TAIL
    ),
    "editMessageLiveLocation": (
        f"{_EDIT_TARGET} latitude!:Float longitude!:Float live_period:Integer "
        "horizontal_accuracy:Float heading:Integer proximity_alert_radius:Integer "
        "reply_markup:InlineKeyboardMarkup"
    ),
    "stopMessageLiveLocation": f"{_EDIT_TARGET} reply_markup:InlineKeyboardMarkup",
    "sendVoice": (
        f"business_connection_id:String {_TARGET} voice!:InputFile|String caption:String "
        "parse_mode:String caption_entities:[MessageEntity] duration:Integer " + _SEND_TAIL
    ),
    "sendPhoto": (
        f"business_connection_id:String {_TARGET} photo!:InputFile|String caption:String "
        "parse_mode:String caption_entities:[MessageEntity] show_caption_above_media:Boolean "
        "has_spoiler:Boolean " + _SEND_TAIL
    ),
    "sendDocument": (
        f"business_connection_id:String {_TARGET} document!:InputFile|String "
        "thumbnail:InputFile|String caption:String parse_mode:String "
        "caption_entities:[MessageEntity] disable_content_type_detection:Boolean " + _SEND_TAIL
    ),
    "copyMessage": (
        f"{_TARGET} from_chat_id!:Integer|String message_id!:Integer "
        "video_start_timestamp:Integer caption:String parse_mode:String "
        "caption_entities:[MessageEntity] show_caption_above_media:Boolean " + _SEND_TAIL
    ),
    "forwardMessage": (
        f"{_TARGET} from_chat_id!:Integer|String video_start_timestamp:Integer "
        "disable_notification:Boolean protect_content:Boolean message_effect_id:String "
        "suggested_post_parameters:SuggestedPostParameters message_id!:Integer"
    ),
    "setMyCommands": f"commands!:[BotCommand] {_SCOPE}",
    "deleteMyCommands": _SCOPE,
    "getMyCommands": _SCOPE,
    "getChat": "chat_id!:Integer|String",
    "sendChatAction": (
        "business_connection_id:String chat_id!:Integer|String message_thread_id:Integer "
        "action!:String"
    ),
    "leaveChat": "chat_id!:Integer|String",
    "getChatMember": "chat_id!:Integer|String user_id!:Integer",
}

_SCOPE_CHAT = "chat_id!:Integer|String"

TYPES: dict[str, str] = {
    "BotCommand": "command!:String description!:String",
    "BotCommandScope": "",
    "BotCommandScopeDefault": "type!:String=default",
    "BotCommandScopeAllPrivateChats": "type!:String=all_private_chats",
    "BotCommandScopeAllGroupChats": "type!:String=all_group_chats",
    "BotCommandScopeAllChatAdministrators": "type!:String=all_chat_administrators",
    "BotCommandScopeChat": f"type!:String=chat {_SCOPE_CHAT}",
    "BotCommandScopeChatAdministrators": f"type!:String=chat_administrators {_SCOPE_CHAT}",
    "BotCommandScopeChatMember": f"type!:String=chat_member {_SCOPE_CHAT} user_id!:Integer",
    "CallbackGame": "",
    "ChatAdministratorRights": (
        "is_anonymous!:Boolean can_manage_chat!:Boolean can_delete_messages!:Boolean "
        "can_manage_video_chats!:Boolean can_restrict_members!:Boolean "
        "can_promote_members!:Boolean can_change_info!:Boolean can_invite_users!:Boolean "
        "can_post_stories!:Boolean can_edit_stories!:Boolean can_delete_stories!:Boolean "
        "can_post_messages:Boolean can_edit_messages:Boolean can_pin_messages:Boolean "
        "can_manage_topics:Boolean can_manage_direct_messages:Boolean can_manage_tags:Boolean"
    ),
    "CopyTextButton": "text!:String",
    "ForceReply": "force_reply!:Boolean input_field_placeholder:String selective:Boolean",
    "InlineKeyboardButton": (
        "text!:String icon_custom_emoji_id:String style:String url:String "
        "callback_data:String web_app:WebAppInfo login_url:LoginUrl "
        "switch_inline_query:String switch_inline_query_current_chat:String "
        "switch_inline_query_chosen_chat:SwitchInlineQueryChosenChat "
        "copy_text:CopyTextButton callback_game:CallbackGame pay:Boolean"
    ),
    "InlineKeyboardMarkup": "inline_keyboard!:[[InlineKeyboardButton]]",
    "InputFile": "",
    "KeyboardButton": (
        "text!:String icon_custom_emoji_id:String style:String "
        "request_users:KeyboardButtonRequestUsers request_chat:KeyboardButtonRequestChat "
        "request_managed_bot:KeyboardButtonRequestManagedBot request_contact:Boolean "
        "request_location:Boolean request_poll:KeyboardButtonPollType web_app:WebAppInfo"
    ),
    "KeyboardButtonPollType": "type:String",
    "KeyboardButtonRequestChat": (
        "request_id!:Integer chat_is_channel!:Boolean chat_is_forum:Boolean "
        "chat_has_username:Boolean chat_is_created:Boolean "
        "user_administrator_rights:ChatAdministratorRights "
        "bot_administrator_rights:ChatAdministratorRights bot_is_member:Boolean "
        "request_title:Boolean request_username:Boolean request_photo:Boolean"
    ),
    "KeyboardButtonRequestManagedBot": (
        "request_id!:Integer suggested_name:String suggested_username:String"
    ),
    "KeyboardButtonRequestUsers": (
        "request_id!:Integer user_is_bot:Boolean user_is_premium:Boolean "
        "max_quantity:Integer request_name:Boolean request_username:Boolean "
        "request_photo:Boolean"
    ),
    "LinkPreviewOptions": (
        "is_disabled:Boolean url:String prefer_small_media:Boolean "
        "prefer_large_media:Boolean show_above_text:Boolean"
    ),
    "LoginUrl": (
        "url!:String forward_text:String bot_username:String request_write_access:Boolean"
    ),
    "MessageEntity": (
        "type!:String offset!:Integer length!:Integer url:String user:User language:String "
        "custom_emoji_id:String unix_time:Integer date_time_format:String"
    ),
    "ReplyKeyboardMarkup": (
        "keyboard!:[[KeyboardButton]] is_persistent:Boolean resize_keyboard:Boolean "
        "one_time_keyboard:Boolean input_field_placeholder:String selective:Boolean"
    ),
    "ReplyKeyboardRemove": "remove_keyboard!:Boolean selective:Boolean",
    "ReplyParameters": (
        "message_id!:Integer chat_id:Integer|String allow_sending_without_reply:Boolean "
        "quote:String quote_parse_mode:String quote_entities:[MessageEntity] "
        "quote_position:Integer checklist_task_id:Integer poll_option_id:String"
    ),
    "SuggestedPostParameters": "price:SuggestedPostPrice send_date:Integer",
    "SuggestedPostPrice": "currency!:String amount!:Integer",
    "SwitchInlineQueryChosenChat": (
        "query:String allow_user_chats:Boolean allow_bot_chats:Boolean "
        "allow_group_chats:Boolean allow_channel_chats:Boolean"
    ),
    "User": (
        "id!:Integer is_bot!:Boolean first_name!:String last_name:String username:String "
        "language_code:String is_premium:Boolean added_to_attachment_menu:Boolean "
        "can_join_groups:Boolean can_read_all_group_messages:Boolean "
        "supports_guest_queries:Boolean supports_inline_queries:Boolean "
        "can_connect_to_business:Boolean has_main_web_app:Boolean "
        "has_topics_enabled:Boolean allows_users_to_create_topics:Boolean "
        "can_manage_bots:Boolean"
    ),
    "WebAppInfo": "url!:String",
}

SUBTYPES: dict[str, tuple[str, ...]] = {
    "BotCommandScope": (
        "BotCommandScopeDefault",
        "BotCommandScopeAllPrivateChats",
        "BotCommandScopeAllGroupChats",
        "BotCommandScopeAllChatAdministrators",
        "BotCommandScopeChat",
        "BotCommandScopeChatAdministrators",
        "BotCommandScopeChatMember",
    ),
}


def _type_name(word: str) -> str:
    depth = 0
    while word.startswith("[") and word.endswith("]"):
        word = word[1:-1]
        depth += 1
    return "Array of " * depth + word


def parse_fields(notation: str) -> tuple[FieldSpec, ...]:
    fields = []
    for word in notation.split():
        head, _, types = word.partition(":")
        types, _, const = types.partition("=")
        required = head.endswith("!")
        fields.append(
            FieldSpec(
                name=head.rstrip("!"),
                types=tuple(_type_name(t) for t in types.split("|")),
                required=required,
                const=const or None,
            )
        )
    return tuple(fields)


def compact_spec() -> ApiSpec:
    methods = {name: MethodSpec(name, parse_fields(body)) for name, body in METHODS.items()}
    types = {
        name: ObjectSpec(name, parse_fields(body), SUBTYPES.get(name, ()))
        for name, body in TYPES.items()
    }
    return ApiSpec(methods, types, source="compact table")
