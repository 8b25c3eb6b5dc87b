/* forward.h — every struct of cnatsd declared once, so headers can name
 * each other's types without including each other. */
#pragma once

typedef struct Account Account;
typedef struct Auth Auth;
typedef struct Client Client;
typedef struct JwtAuth JwtAuth;
typedef struct JwtAuthConf JwtAuthConf;
typedef struct JwtClient JwtClient;
typedef struct ClientAuth ClientAuth;
typedef struct Loop Loop;
typedef struct Monitor Monitor;
typedef struct Options Options;
typedef struct Parser Parser;
typedef struct Server Server;
typedef struct Sublist Sublist;
typedef struct SublistResult SublistResult;
typedef struct Subscription Subscription;
typedef struct Timer Timer;
typedef struct TlsConfig TlsConfig;
typedef struct TlsConn TlsConn;
