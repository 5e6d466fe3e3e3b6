# SPDX-License-Identifier: MIT
"""Every message a user can see, in one place (Spanish, as the original service)."""

# Generic errors
INTERNAL_ERROR = "Error interno del servidor"
ROUTE_NOT_FOUND = "Ruta {method} {path} no encontrada"
BAD_REQUEST = "Solicitud inválida"
MALFORMED_JSON = "El cuerpo de la solicitud no es un JSON válido"
BODY_NOT_OBJECT = "El cuerpo de la solicitud debe ser un objeto JSON"
DUPLICATE_JSON_KEY = "El cuerpo de la solicitud contiene la clave '{key}' repetida"
UNSUPPORTED_CONTENT_TYPE = "El cuerpo de la solicitud debe enviarse como JSON (Content-Type: application/json)"
BODY_TOO_LARGE = "El cuerpo de la solicitud excede el tamaño máximo permitido"
NOTHING_TO_UPDATE = "Debe enviar al menos un campo para actualizar"
DUPLICATE_RECORD = "El registro ya existe (valor duplicado)"
MISSING_REFERENCE = "Referencia a un registro inexistente"
STILL_REFERENCED = "No se puede eliminar: existen registros relacionados"
RATE_LIMITED = "Demasiados intentos fallidos, intenta de nuevo más tarde"
TOO_MANY_REQUESTS = "Demasiadas solicitudes, intenta de nuevo en un momento"  # nginx's 429 (deploy/nginx.conf)
DATABASE_BUSY = "La base de datos está ocupada por otro proceso; intenta de nuevo en unos segundos"
DATABASE_UNREACHABLE = "No se puede conectar con la base de datos; intenta de nuevo en unos segundos"
DATABASE_FULL = "No queda espacio en disco para guardar cambios; intenta de nuevo más tarde"

# Validation (joined by ". ")
FIELD_REQUIRED = "'{field}' es requerido"
FIELD_TYPE = "'{field}' debe ser de tipo {type}"
FIELD_MIN_LENGTH = "'{field}' debe tener al menos {n} caracteres"
FIELD_MAX_LENGTH = "'{field}' no debe exceder {n} caracteres"
FIELD_MIN = "'{field}' debe ser mayor o igual a {n}"
FIELD_MAX = "'{field}' debe ser menor o igual a {n}"
FIELD_FORMAT = "'{field}' tiene un formato inválido"
FIELD_MAX_BYTES = "'{field}' no debe exceder {n} bytes"
FIELD_BLANK = "'{field}' no puede estar en blanco"
FIELD_EQUALS_EMAIL = "'{field}' no puede ser igual al correo"

# Authentication and authorization
TOKEN_REQUIRED = "Token requerido"
TOKEN_INVALID = "Token inválido o expirado"
SOCKET_TOKEN_REQUIRED = "Token requerido para conectarse"
BAD_CREDENTIALS = "Credenciales inválidas"
USER_INACTIVE = "Usuario inactivo, contactate con el administrador"
FORBIDDEN = "No tienes permisos para acceder a este recurso"
NOT_CONTAINED = "No tiene permisos suficientes para esta acción"
MUST_CHANGE_PASSWORD = "Debe cambiar su contraseña antes de continuar"
REGISTRATION_CLOSED = "El registro público está deshabilitado"
WRONG_CURRENT_PASSWORD = "La contraseña actual es incorrecta"
SAME_PASSWORD = "La nueva contraseña debe ser distinta de la actual"
LOCKOUT = "Operación rechazada: dejaría el sistema sin ningún administrador activo capaz de asignar permisos"

# Auth successes
REGISTERED = "Usuario registrado exitosamente"
LOGGED_IN = "Login exitoso"
SESSION_INFO = "Sesión obtenida exitosamente"
TOKEN_REFRESHED = "Token renovado exitosamente"
PASSWORD_CHANGED = "Contraseña actualizada exitosamente"
SESSIONS_CLOSED = "Las demás sesiones se cerraron exitosamente"

# Users
USERS_FETCHED = "Usuarios obtenidos exitosamente"
USER_FETCHED = "Usuario obtenido exitosamente"
USER_CREATED = "Usuario creado exitosamente"
USER_UPDATED = "Usuario actualizado exitosamente"
USER_ACTIVATED = "Usuario activado exitosamente"
USER_DEACTIVATED = "Usuario desactivado exitosamente"
USER_PASSWORD_RESET = "Contraseña restablecida exitosamente"
USER_DELETED = "Usuario eliminado exitosamente"
USER_NOT_FOUND = "Usuario con id {id} no encontrado"
EMAIL_IN_USE = "El correo ya está en uso por otro usuario"
SELF_DELETE = "No puedes eliminar tu propia cuenta"
SELF_DISABLE = "No puedes desactivar tu propia cuenta"

# Roles
ROLES_FETCHED = "Roles obtenidos exitosamente"
ROLE_CREATED = "Rol creado exitosamente"
ROLE_UPDATED = "Rol actualizado exitosamente"
ROLE_DELETED = "Rol eliminado exitosamente"
ROLE_NOT_FOUND = "Rol con id {id} no encontrado"
ROLE_EXISTS = "El rol '{name}' ya existe"
ROLE_IN_USE = "No se puede eliminar el rol porque tiene usuarios asignados"

# Permissions
PERMISSIONS_FETCHED = "Permisos obtenidos exitosamente"
PERMISSION_CREATED = "Permiso registrado exitosamente"
PERMISSION_ASSIGNED = "Permiso asignado exitosamente"
PERMISSION_ALREADY_ASSIGNED = "El permiso ya estaba asignado a este rol"
PERMISSION_UNASSIGNED = "Permiso desasignado exitosamente"
PERMISSION_DELETED = "Permiso eliminado exitosamente"
PERMISSION_EXISTS = "El permiso ya se encuentra registrado."
PERMISSION_NOT_FOUND = "Permiso con id {id} no encontrado"
PERMISSION_URI_NOT_FOUND = "No se encontraron permisos para '{uri}'"
PERMISSION_NOT_ASSIGNED = "El permiso no está asignado a este rol"

# Sidebar
SIDEBAR_FETCHED = "Items del menú obtenidos exitosamente"
SIDEBAR_CREATED = "Item del menú creado exitosamente"
SIDEBAR_UPDATED = "Item del menú actualizado exitosamente"
SIDEBAR_DELETED = "Item del menú eliminado exitosamente"
SIDEBAR_ASSIGNED = "Item asignado al rol exitosamente"
SIDEBAR_UNASSIGNED = "Item desasignado del rol exitosamente"
SIDEBAR_NOT_FOUND = "Item con id {id} no encontrado"
SIDEBAR_ALREADY_ASSIGNED = "El item ya está asignado a este rol"
SIDEBAR_NOT_ASSIGNED = "El item no está asignado a este rol"

# Change feed and login audit
CHANGES_FETCHED = "Cambios obtenidos exitosamente"
LOGINS_FETCHED = "Inicios de sesión obtenidos exitosamente"
CHANGES_GONE = "El historial solicitado ya no está disponible; recarga los datos"

# Health
HEALTHY = "OK"

# Operation lifecycle (operation:progress)
OP_START = "Iniciando operación {operation}..."
OP_VALIDATING = "Validando datos..."
OP_CHECKING = "Verificando existencia del registro..."
OP_HASHING = "Procesando contraseña..."
OP_SAVING = "Guardando cambios..."
OP_QUERYING = "Consultando datos..."

# session:revoked reasons
REVOKED_DISABLED = "disabled"
REVOKED_DELETED = "deleted"
REVOKED_PASSWORD_RESET = "password_reset"
REVOKED_PASSWORD_CHANGED = "password_changed"
REVOKED_LOGGED_OUT = "logged_out"
REVOKED_EXPIRED = "expired"

# Route summaries: the permission catalog's descriptions and the OpenAPI document's summaries
ROUTE_SUMMARIES = {
    "POST /auth/register": "Registrar un usuario (anónimo solo con open_registration)",
    "POST /auth/login": "Iniciar sesión",
    "GET /auth/me": "Sesión actual: usuario, permisos y menú",
    "POST /auth/refresh": "Renovar el token",
    "PUT /auth/password": "Cambiar la propia contraseña; las demás sesiones se cierran",
    "POST /auth/logoutOthers": "Cerrar las demás sesiones propias; la que llama sigue abierta",
    "GET /changes": "Cambios posteriores a un seq (o los más recientes) visibles para quien consulta",
    "GET /permission": "Catálogo de permisos",
    "POST /permission/register": "Registrar un permiso en el catálogo",
    "GET /permission/getByRoleId": "Permisos de un rol",
    "GET /permission/getByNameUri": "Permisos con ese nameUri",
    "POST /permission/assign": "Asignar un permiso a un rol",
    "DELETE /permission/unassign": "Quitar un permiso a un rol",
    "DELETE /permission/:id": "Eliminar un permiso y sus asignaciones",
    "GET /roles": "Listar roles",
    "POST /roles": "Crear un rol",
    "PUT /roles/:idRole": "Editar un rol",
    "DELETE /roles/:idRole": "Eliminar un rol sin usuarios",
    "GET /sidebar": "Menú del usuario actual",
    "POST /sidebar": "Crear un item del menú",
    "GET /sidebar/items": "Listar items del menú con sus roles",
    "PUT /sidebar/:idItem": "Editar un item del menú",
    "DELETE /sidebar/:idItem": "Eliminar un item del menú",
    "POST /sidebar/:idItem/role/:idRole": "Mostrar un item del menú a un rol",
    "DELETE /sidebar/:idItem/role/:idRole": "Ocultar un item del menú a un rol",
    "GET /users": "Listar usuarios (paginado y con búsqueda)",
    "GET /users/logins": "Historial de inicios de sesión (correctos y fallidos, sin contraseñas)",
    "POST /users": "Crear un usuario",
    "GET /users/:id": "Ver un usuario",
    "PUT /users/:id": "Editar un usuario",
    "DELETE /users/:id": "Eliminar un usuario",
    "PUT /users/:id/state": "Activar o desactivar un usuario",
    "PUT /users/:id/resetPassword": "Restablecer la contraseña de un usuario (temporal, se muestra una vez)",
}
